import type { OutboxContext } from './outbox-context.js'
import type { OutboxStats } from './stats.js'

export type { OutboxStats } from './stats.js'

/** A snapshot of the outbox's counts (O(peers + entries) for the oldest age). */
export function snapshotStats(
  context: OutboxContext,
  live: { inFlight: number; storeHealthy: boolean }
): OutboxStats {
  const { index, options, totals, ledger } = context
  const now = options.clock.now()
  let oldest = Infinity
  const byPeer: OutboxStats['byPeer'] = {}
  for (const queue of index.peers.values()) {
    if (queue.size === 0) continue
    byPeer[queue.peer] = { entries: queue.size, bytes: queue.bytes }
    for (const entry of queue.entries()) oldest = Math.min(oldest, entry.createdAt)
  }
  return {
    queued: index.byId.size,
    bytes: index.queuedBytes,
    inFlight: live.inFlight,
    peers: Object.keys(byPeer).length,
    deadLetters: index.dead.size,
    oldestAge: oldest === Infinity ? null : Math.max(0, now - oldest),
    byLevel: index.byLevel.toRecord(),
    byPeer,
    byProtocol: index.byProtocol.toRecord(),
    totals: { ...totals },
    storeHealthy: live.storeHealthy,
    pendingWrites: ledger.size,
    replies: index.replies.size,
    latency: {
      byProtocol: index.latencyByProtocol.toRecord(),
      byLevel: index.latencyByLevel.toRecord()
    }
  }
}

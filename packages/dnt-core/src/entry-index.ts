import { OutboxFullError } from './errors.js'
import { LatencyByKey } from './latency.js'
import type { OutboxLimits } from './outbox-options.js'
import { PeerQueue } from './peer-queue.js'
import type { PendingEntry } from './pending-entry.js'
import { RecentDeliveries } from './recent-deliveries.js'
import { TallyMap } from './stats.js'
import type { Entry } from './types.js'

/** How many recently reachable peers keep their "pipelining allowed" state after their queue emptied. */
const PROVEN_PEERS_REMEMBERED = 4096

/**
 * Where every entry the outbox holds can be found: one FIFO queue per peer,
 * an index by id, the dead letters, the ids recently delivered, and running
 * totals (entries and bytes by level and protocol) checked against the limits.
 */
export class EntryIndex {
  readonly peers = new Map<string, PeerQueue>()
  readonly byId = new Map<string, PendingEntry>()
  readonly dead = new Map<string, PendingEntry>()
  /** Delivered entries holding the receiver's reply until the application takes it. */
  readonly replies = new Map<string, PendingEntry>()
  readonly delivered: RecentDeliveries
  /** Send-to-delivered latency since `start()`, by protocol and by level. */
  readonly latencyByProtocol = new LatencyByKey()
  readonly latencyByLevel = new LatencyByKey()
  readonly byLevel = new TallyMap()
  readonly byProtocol = new TallyMap()
  queuedBytes = 0
  private readonly provenPeers = new Set<string>()

  constructor(
    private readonly limits: Required<OutboxLimits>,
    rememberDelivered: number
  ) {
    this.delivered = new RecentDeliveries(rememberDelivered)
  }

  /** The peer's queue, made when it has none. */
  queueFor(peer: string): PeerQueue {
    let queue = this.peers.get(peer)
    if (queue === undefined) {
      queue = new PeerQueue(peer)
      queue.proven = this.provenPeers.delete(peer)
      this.peers.set(peer, queue)
    }
    return queue
  }

  /** Forgets an empty, idle queue (remembering whether the peer was proven reachable). */
  forget(queue: PeerQueue): void {
    if (this.peers.get(queue.peer) !== queue) return
    this.peers.delete(queue.peer)
    if (!queue.proven) return
    this.provenPeers.add(queue.peer)
    if (this.provenPeers.size > PROVEN_PEERS_REMEMBERED) {
      const oldest = this.provenPeers.values().next().value
      if (oldest !== undefined) this.provenPeers.delete(oldest)
    }
  }

  track(queue: PeerQueue, entry: PendingEntry): void {
    queue.push(entry)
    this.byId.set(entry.id, entry)
    const bytes = entry.payload.byteLength
    this.queuedBytes += bytes
    this.byLevel.add(entry.level, bytes)
    this.byProtocol.add(entry.protocol, bytes)
    if (entry.expiresAt < queue.nextExpiry) queue.nextExpiry = entry.expiresAt
  }

  /** Takes a queued entry out (it becomes `done`); a no-op for one already out. */
  untrack(queue: PeerQueue, entry: PendingEntry): void {
    if (entry.done) return
    queue.finish(entry)
    if (this.byId.get(entry.id) === entry) this.byId.delete(entry.id)
    const bytes = entry.payload.byteLength
    this.queuedBytes -= bytes
    this.byLevel.remove(entry.level, bytes)
    this.byProtocol.remove(entry.protocol, bytes)
  }

  /** Throws `OutboxFullError` unless one more entry of `bytes` payload bytes fits, globally and for `peer`. */
  checkCapacity(peer: string, bytes: number): void {
    this.checkTotal(1, bytes)
    this.checkPeer(peer, 1, bytes)
  }

  /** Throws `OutboxFullError` unless `entries` more entries of `bytes` bytes in all fit. */
  checkTotal(entries: number, bytes: number): void {
    const { limits } = this
    if (
      this.byId.size + entries > limits.maxEntries ||
      this.queuedBytes + bytes > limits.maxBytes
    ) {
      throw new OutboxFullError(
        `outbox full: ${this.byId.size} entries and ${this.queuedBytes} bytes queued (limits: ${limits.maxEntries} entries, ${limits.maxBytes} bytes)`
      )
    }
  }

  /** Throws `OutboxFullError` unless `entries` more entries of `bytes` bytes fit for `peer`. */
  checkPeer(peer: string, entries: number, bytes: number): void {
    const { limits } = this
    const queue = this.peers.get(peer)
    const queuedEntries = queue?.size ?? 0
    const queuedBytes = queue?.bytes ?? 0
    if (
      queuedEntries + entries > limits.maxEntriesPerPeer ||
      queuedBytes + bytes > limits.maxBytesPerPeer
    ) {
      throw new OutboxFullError(
        `outbox full for peer ${peer}: ${queuedEntries} entries and ${queuedBytes} bytes queued (limits per peer: ${limits.maxEntriesPerPeer} entries, ${limits.maxBytesPerPeer} bytes)`
      )
    }
  }

  /** Copies of the queued entries (of `peer`, or all), FIFO per peer. */
  queuedCopies(peer?: string): Entry[] {
    const copies: Entry[] = []
    for (const queue of this.peers.values()) {
      if (peer !== undefined && queue.peer !== peer) continue
      for (const entry of queue.entries()) copies.push(entry.toEntry())
    }
    return copies
  }

  clear(): void {
    this.peers.clear()
    this.byId.clear()
    this.dead.clear()
    this.replies.clear()
    this.delivered.clear()
    this.latencyByProtocol.clear()
    this.latencyByLevel.clear()
    this.provenPeers.clear()
    this.byLevel.clear()
    this.byProtocol.clear()
    this.queuedBytes = 0
  }
}

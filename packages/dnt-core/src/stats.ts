import type { LatencySummary } from './latency.js'

/** Entries and payload bytes of one group (a level, a peer, a protocol). */
export interface Tally {
  entries: number
  bytes: number
}

/** A snapshot of an outbox, from `Outbox.stats()`. */
export interface OutboxStats {
  /** Entries waiting for delivery (in flight included). */
  queued: number
  /** Payload bytes of those entries. */
  bytes: number
  /** Deliveries running now. */
  inFlight: number
  /** Peers with queued entries. */
  peers: number
  /** Entries in the dead-letter list. */
  deadLetters: number
  /** Age in ms of the oldest queued entry, or `null` when nothing is queued. */
  oldestAge: number | null
  byLevel: Record<string, Tally>
  byPeer: Record<string, Tally>
  byProtocol: Record<string, Tally>
  /** Counts since `start()`. */
  totals: {
    delivered: number
    failedAttempts: number
    abandoned: number
    expired: number
  }
  /** False while the store is failing and persisted sends are refused. */
  storeHealthy: boolean
  /** Store changes (puts and deletes) not yet durable, the one being written included. */
  pendingWrites: number
  /** Replies of messages delivered after their `send()` returned, waiting for `takeReply()`. */
  replies: number
  /**
   * Since `start()`: delivered messages, attempts per delivery and
   * send-to-delivered latency percentiles (ms, within 5%), by protocol and by level.
   */
  latency: {
    byProtocol: Record<string, LatencySummary>
    byLevel: Record<string, LatencySummary>
  }
}

/** Running totals by key, kept up to date on every change (no scan at `stats()` time). */
export class TallyMap {
  private readonly tallies = new Map<string, Tally>()

  add(key: string, bytes: number): void {
    const tally = this.tallies.get(key)
    if (tally === undefined) this.tallies.set(key, { entries: 1, bytes })
    else {
      tally.entries++
      tally.bytes += bytes
    }
  }

  remove(key: string, bytes: number): void {
    const tally = this.tallies.get(key)
    if (tally === undefined) return
    tally.entries--
    tally.bytes -= bytes
    if (tally.entries <= 0) this.tallies.delete(key)
  }

  clear(): void {
    this.tallies.clear()
  }

  toRecord(): Record<string, Tally> {
    const record: Record<string, Tally> = {}
    for (const [key, tally] of this.tallies) record[key] = { ...tally }
    return record
  }
}

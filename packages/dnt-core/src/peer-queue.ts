import type { PendingEntry } from './pending-entry.js'
import type { HeapItem } from './timer-heap.js'

/** The FIFO queue and retry state of one peer. */
export class PeerQueue implements HeapItem {
  readonly peer: string
  private items: PendingEntry[] = []
  private head = 0
  /** Entries not yet done (queued or in flight). */
  size = 0
  bytes = 0
  inFlight = 0
  /** Consecutive failed attempts since the last delivery; drives the backoff. */
  failures = 0
  /** No attempt before this monotonic time (ms); 0 when not backing off. */
  retryAt = 0
  /** Earliest monotonic TTL expiry of the entries queued here. */
  nextExpiry = Infinity
  /** The early attempt a reconnect allows per backoff window has been made. */
  earlyUsed = false
  /** The next attempt is an early one (the peer became reachable during its backoff). */
  earlyPending = false
  /** The peer was reported reachable while an attempt was in flight. */
  reachableDuringAttempt = false
  /** A delivery succeeded since the last failure, so pipelining is allowed. */
  proven = false
  /** Incremented when an attempt round fails; attempts of older rounds are not counted twice. */
  round = 0
  /** Waiting in the outbox's ready list for a delivery slot. */
  ready = false
  wakeAt = 0
  heapIndex = -1
  /** Resolved when the current round ends (see `Outbox.flush`). */
  roundWaiters: Array<() => void> = []

  constructor(peer: string) {
    this.peer = peer
  }

  push(entry: PendingEntry): void {
    this.items.push(entry)
    this.size++
    this.bytes += entry.payload.byteLength
  }

  /** Marks `entry` done and drops finished entries from the head. */
  finish(entry: PendingEntry): void {
    if (entry.done) return
    entry.done = true
    this.size--
    this.bytes -= entry.payload.byteLength
    this.compact()
  }

  private compact(): void {
    while (this.head < this.items.length && (this.items[this.head] as PendingEntry).done) {
      this.items[this.head] = undefined as unknown as PendingEntry
      this.head++
    }
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
  }

  /**
   * The first entries that are neither done nor in flight, at most `limit` of
   * them, stopping at one that is held (its first write is not durable yet):
   * nothing overtakes it.
   */
  takeNext(limit: number): PendingEntry[] {
    const taken: PendingEntry[] = []
    for (let index = this.head; index < this.items.length && taken.length < limit; index++) {
      const entry = this.items[index] as PendingEntry
      if (entry.done || entry.inFlight) continue
      if (entry.held) break
      taken.push(entry)
    }
    return taken
  }

  /** The oldest entry not yet done. */
  first(): PendingEntry | undefined {
    for (let index = this.head; index < this.items.length; index++) {
      const entry = this.items[index] as PendingEntry
      if (!entry.done) return entry
    }
    return undefined
  }

  /** Every entry not yet done, in FIFO order. */
  *entries(): IterableIterator<PendingEntry> {
    for (let index = this.head; index < this.items.length; index++) {
      const entry = this.items[index] as PendingEntry
      if (!entry.done) yield entry
    }
  }

  resolveRound(): void {
    const waiters = this.roundWaiters
    this.roundWaiters = []
    for (const resolve of waiters) resolve()
  }
}

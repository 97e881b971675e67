import { describeError } from './errors.js'
import type { OutboxContext } from './outbox-context.js'
import type { PeerQueue } from './peer-queue.js'
import type { PendingEntry } from './pending-entry.js'
import type { DeadLetter } from './types.js'

/**
 * What becomes of an entry: accepted (the outbox answers for it, durably when
 * its level persists), charged an attempt, refused, retired to the dead letters
 * or dropped, expired. Every change that must outlive the process goes to the
 * ledger here, and only here.
 */
export class EntryFates {
  constructor(private readonly context: OutboxContext) {}

  /**
   * Accepts the waiting entries at the front of the queue, in FIFO order, up to
   * the first one whose first attempt is still in flight: an entry is written
   * only once nothing ahead of it can still turn out delivered without a write,
   * so the store's order is always the queue's.
   */
  acceptWaiting(queue: PeerQueue): void {
    for (const entry of queue.entries()) {
      if (entry.accepted) continue
      if (entry.inFlight) return
      this.accept(queue, entry)
    }
  }

  /**
   * Accepts every entry of the queue not yet accepted, in order, in flight or
   * not: what is put behind them now (a requeued dead letter) reaches the
   * store after them. An entry whose attempt then succeeds is deleted again.
   */
  acceptAll(queue: PeerQueue): void {
    for (const entry of Array.from(queue.entries())) {
      if (!entry.accepted) this.accept(queue, entry)
    }
  }

  /**
   * The outbox stops: what still waits to be accepted is written when its
   * level persists (its sender hears `queued` once durable); a memory-only one
   * ends with the outbox, and its sender gets `error`.
   */
  acceptForStop(queue: PeerQueue, error: unknown): void {
    for (const entry of Array.from(queue.entries())) {
      if (entry.accepted) continue
      if (this.context.rules.level(entry.level).persist) this.accept(queue, entry)
      else this.drop(queue, entry, error)
    }
  }

  /**
   * The outbox answers for the entry from now on. A persisted one is held (not
   * attempted, nothing overtakes it) until its write is durable; then its
   * sender hears `queued`. If that write fails, the sender gets the error and
   * nothing of the entry is kept.
   */
  private accept(queue: PeerQueue, entry: PendingEntry): void {
    const { emit, ledger, rules } = this.context
    entry.accepted = true
    if (!rules.level(entry.level).persist) {
      emit('queued', () => ({ entry: entry.toEntry() }))
      entry.settle('queued')
      return
    }
    entry.held = true
    ledger.put(entry).then(
      () => {
        if (entry.done || !entry.held) return
        entry.held = false
        emit('queued', () => ({ entry: entry.toEntry() }))
        entry.settle('queued')
        this.context.reschedule(queue)
      },
      (error: unknown) => {
        if (entry.done || !entry.held) return
        entry.held = false
        if (entry.waiter === undefined) return // nobody to tell: the ledger keeps trying
        this.drop(queue, entry, error)
        this.context.reschedule(queue)
      }
    )
  }

  /** One failed attempt for `entry`: out of retries, expired, or waits (its budget written when durable). */
  charge(queue: PeerQueue, entry: PendingEntry, error: unknown, nextAttemptAt?: number): void {
    const { rules, scheduler, options, ledger } = this.context
    entry.attempts++
    entry.lastError = describeError(error)
    entry.nextAttemptAt =
      nextAttemptAt ?? Math.ceil(options.clock.now() + Math.max(0, queue.retryAt - scheduler.now()))
    if (rules.exhausted(entry)) {
      this.abandon(queue, entry, 'exhausted', error)
    } else if (entry.expiresAt <= scheduler.now()) {
      this.expire(queue, entry)
    } else if (entry.accepted && !entry.held && rules.durableBudget(entry)) {
      ledger.putLater(entry)
    }
  }

  /** A final failure (refused by the receiving application, or undeliverable as configured). */
  refuse(
    queue: PeerQueue,
    entry: PendingEntry,
    reason: 'rejected' | 'undeliverable',
    error: unknown
  ): void {
    entry.attempts++
    entry.lastError = describeError(error)
    if (entry.accepted) {
      this.abandon(queue, entry, reason, error)
      return
    }
    // a first attempt: its sender still waits, and gets the error; nothing is kept
    this.context.totals.abandoned++
    this.drop(queue, entry, error)
    this.context.emit('abandoned', () => ({
      entry: entry.toEntry(),
      reason,
      error,
      deadLetter: false
    }))
  }

  /** Takes an entry out of queue and store, telling its sender `error` (never accepted, or aborted). */
  drop(queue: PeerQueue, entry: PendingEntry, error: unknown): void {
    entry.held = false
    this.context.index.untrack(queue, entry)
    this.context.ledger.delete(entry)
    entry.fail(error)
  }

  /** Expires the queue's entries whose TTL passed by `now` (in-flight ones wait for their outcome). */
  expireDue(queue: PeerQueue, now: number): void {
    let next = Infinity
    for (const entry of Array.from(queue.entries())) {
      if (entry.inFlight) continue
      if (entry.expiresAt <= now) this.expire(queue, entry)
      else next = Math.min(next, entry.expiresAt)
    }
    queue.nextExpiry = next
  }

  private expire(queue: PeerQueue, entry: PendingEntry): void {
    const { totals, log, emit } = this.context
    totals.expired++
    log('entry %s to %s expired', entry.id, entry.peer)
    const deadLetter = this.retire(queue, entry, 'expired')
    emit('expired', () => ({ entry: entry.toEntry(), deadLetter }))
  }

  private abandon(
    queue: PeerQueue,
    entry: PendingEntry,
    reason: 'exhausted' | 'rejected' | 'undeliverable',
    error: unknown
  ): void {
    const { totals, log, emit } = this.context
    totals.abandoned++
    log('entry %s to %s abandoned (%s)', entry.id, entry.peer, reason)
    const deadLetter = this.retire(queue, entry, reason)
    emit('abandoned', () => ({ entry: entry.toEntry(), reason, error, deadLetter }))
  }

  /**
   * Out of the queue, into the dead letters or gone, per its level. A sender
   * still waiting hears `abandoned` once the dead letter is durable (or the
   * store's error if that write fails; the ledger keeps trying it).
   */
  private retire(queue: PeerQueue, entry: PendingEntry, reason: DeadLetter['reason']): boolean {
    const { index, ledger, rules, options } = this.context
    index.untrack(queue, entry)
    entry.held = false
    const level = rules.level(entry.level)
    const deadLetter = level.onExhausted === 'dead-letter'
    if (!deadLetter) {
      ledger.delete(entry)
      entry.settle('abandoned')
      return false
    }
    entry.deadLetter = { reason, at: options.clock.now() }
    entry.accepted = true
    index.dead.set(entry.id, entry)
    if (!level.persist) {
      entry.settle('abandoned')
      return true
    }
    ledger.put(entry).then(
      () => entry.settle('abandoned'),
      (error: unknown) => entry.fail(error)
    )
    return true
  }
}

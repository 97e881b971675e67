import { Attempt, type AttemptOutcome } from './attempt.js'
import type { EntryFates } from './entry-fates.js'
import { describeError, OutboxStoppedError } from './errors.js'
import type { OutboxContext } from './outbox-context.js'
import type { PeerQueue } from './peer-queue.js'
import type { PendingEntry } from './pending-entry.js'
import { messageFingerprint } from './recent-deliveries.js'
import { EARLY_ATTEMPT_DELAY } from './retry-rules.js'

/**
 * Starting attempts and acting on their outcomes:
 *
 * - delivered: the entry leaves queue and store; the peer's failures reset
 *   (only a delivery resets them, so a flapping connection cannot defeat backoff);
 * - unreachable: the peer backs off; every entry queued to it and not in flight
 *   is charged one attempt (each would have dialled in vain), once per round;
 * - failed: the peer backs off (once per round); only this message is charged;
 * - rejected / undeliverable: final for this message; the caller of a first
 *   attempt gets the error, a queued entry is abandoned per its level;
 * - stopped (the outbox stopped mid-attempt): this message is charged, as it
 *   may or may not have arrived; cancelled: the unaccepted entry is dropped.
 *
 * An entry in flight is charged by its own outcome only, so an attempt that
 * later succeeds is never retired under it.
 */
export class Deliveries {
  private readonly attempts = new Map<PendingEntry, Attempt>()

  constructor(
    private readonly context: OutboxContext,
    private readonly fates: EntryFates
  ) {}

  get inFlight(): number {
    return this.attempts.size
  }

  /** Starts as many attempts for the queue as its window allows (1 until the peer proved reachable). */
  fill(queue: PeerQueue): void {
    const window = queue.proven ? this.context.options.perPeerConcurrency : 1
    const free = window - queue.inFlight
    if (free <= 0) return
    const taken = queue.takeNext(free)
    if (taken.length === 0) return
    const early = queue.earlyPending
    queue.earlyPending = false
    for (const entry of taken) this.dispatch(queue, entry, early)
  }

  /** Aborts every attempt: the outbox stops. */
  stopAll(): void {
    for (const attempt of this.attempts.values()) attempt.stop()
  }

  /** Resolves once every attempt running now has handed over its outcome. */
  settled(): Promise<void> {
    return Promise.all(Array.from(this.attempts.values(), (attempt) => attempt.settled)).then(
      () => {}
    )
  }

  /**
   * The sender gave up (its signal aborted). Before the message is durable,
   * nothing is left of it; after, this changes nothing. Returns whether it was dropped.
   */
  cancel(queue: PeerQueue, entry: PendingEntry, reason: unknown): boolean {
    if (entry.done || (entry.accepted && !entry.held)) return false
    const attempt = this.attempts.get(entry)
    if (attempt !== undefined) {
      attempt.cancel(reason)
      return true
    }
    this.fates.drop(queue, entry, reason)
    this.context.reschedule(queue)
    return true
  }

  private dispatch(queue: PeerQueue, entry: PendingEntry, early: boolean): void {
    const { options, scheduler } = this.context
    scheduler.started(queue)
    entry.inFlight = true
    const attempt = new Attempt(entry, queue.round, early, {
      transport: options.transport,
      clock: options.clock,
      timeout: options.attemptTimeout,
      onOutcome: (settled, outcome) => this.settle(queue, settled, outcome)
    })
    this.attempts.set(entry, attempt)
  }

  private settle(queue: PeerQueue, attempt: Attempt, outcome: AttemptOutcome): void {
    const { entry } = attempt
    this.attempts.delete(entry)
    entry.inFlight = false
    this.context.scheduler.ended(queue)
    // done: purged or expired while in flight; its outcome no longer matters
    if (!entry.done) {
      switch (outcome.kind) {
        case 'delivered':
          this.delivered(queue, entry, outcome.reply)
          break
        case 'unreachable':
          if (attempt.round === queue.round) this.failRound(queue, entry, outcome.error, attempt)
          // the round already failed and charged the others: this entry pays for itself
          else this.fates.charge(queue, entry, outcome.error)
          break
        case 'failed':
          if (attempt.round === queue.round) this.failMessage(queue, entry, outcome.error, attempt)
          // a failure of its round already backed the peer off (a stream reset under several
          // pipelined messages fails each of them): this message pays, the backoff does not grow
          else this.fates.charge(queue, entry, outcome.error)
          break
        case 'rejected':
        case 'undeliverable':
          if (outcome.kind === 'rejected') queue.proven = true
          this.fates.refuse(queue, entry, outcome.kind, outcome.error)
          break
        case 'cancelled':
          this.fates.drop(queue, entry, outcome.error)
          break
        case 'stopped':
          // it may or may not have arrived: it counts, so stops cannot spend a budget without end
          this.fates.charge(queue, entry, new OutboxStoppedError('outbox stopped during delivery'))
          break
      }
    }
    this.context.reschedule(queue)
  }

  /**
   * Delivered: out of the queue. A reply goes to the `send()` still waiting
   * for it; when nobody waits, the entry stays (in the store when its level
   * persists) holding the reply until `takeReply()`. Otherwise it is deleted.
   */
  private delivered(queue: PeerQueue, entry: PendingEntry, reply: Uint8Array | undefined): void {
    const { index, ledger, totals, options, rules } = this.context
    queue.proven = true
    queue.failures = 0
    queue.retryAt = 0
    queue.earlyUsed = false
    queue.reachableDuringAttempt = false
    entry.attempts++
    index.untrack(queue, entry)
    totals.delivered++
    const now = options.clock.now()
    index.latencyByProtocol.record(entry.protocol, now - entry.createdAt, entry.attempts)
    index.latencyByLevel.record(entry.level, now - entry.createdAt, entry.attempts)
    index.delivered.remember(
      entry.id,
      messageFingerprint(entry.peer, entry.protocol, entry.payload)
    )
    if (reply !== undefined && entry.waiter === undefined) {
      entry.delivered = { at: now, reply }
      entry.held = false
      index.replies.set(entry.id, entry)
      if (rules.level(entry.level).persist || entry.stored) ledger.putLater(entry)
    } else {
      ledger.delete(entry)
    }
    entry.settle('delivered', reply)
    this.context.emit('delivered', () => ({
      entry: entry.toEntry(),
      attempts: entry.attempts,
      ...(reply === undefined ? {} : { reply })
    }))
  }

  /** The peer could not be reached: it backs off and every entry not in flight spends one attempt. */
  private failRound(
    queue: PeerQueue,
    failed: PendingEntry,
    error: unknown,
    attempt: Attempt
  ): void {
    queue.round++
    const nextAttemptAt = this.backOff(queue, failed, attempt, true)
    for (const entry of Array.from(queue.entries())) {
      if (!entry.inFlight) this.fates.charge(queue, entry, error, nextAttemptAt)
    }
    this.reportFailure(queue, error, 'peer', nextAttemptAt)
  }

  /**
   * The peer was reached but this message failed: the peer backs off (once
   * per round: the attempts in flight with it do not back it off again), the
   * message is charged.
   */
  private failMessage(
    queue: PeerQueue,
    failed: PendingEntry,
    error: unknown,
    attempt: Attempt
  ): void {
    queue.round++
    const nextAttemptAt = this.backOff(queue, failed, attempt, false)
    this.fates.charge(queue, failed, error, nextAttemptAt)
    this.reportFailure(queue, error, 'message', nextAttemptAt)
  }

  /**
   * Starts a new backoff window; returns the wall-clock time of the next
   * attempt. `unreachable`: the attempt found no connection.
   */
  private backOff(
    queue: PeerQueue,
    failed: PendingEntry,
    attempt: Attempt,
    unreachable: boolean
  ): number {
    const { rules, scheduler, options, totals } = this.context
    queue.failures++
    queue.proven = false
    // after an early attempt failed, the window it opens allows no other early one
    queue.earlyUsed = attempt.early
    totals.failedAttempts++
    const head = queue.first() ?? failed
    let delay = rules.delay(head.level, queue.failures)
    if (queue.reachableDuringAttempt && !attempt.early && unreachable) {
      // this attempt found no connection, yet the peer said it was reachable meanwhile (not through
      // this attempt's own dial, which would have connected): the window's one early attempt, now
      delay = EARLY_ATTEMPT_DELAY
      queue.earlyUsed = true
      queue.earlyPending = true
    }
    queue.reachableDuringAttempt = false
    queue.retryAt = scheduler.now() + delay
    // whole milliseconds, as every time the outbox reports
    return Math.ceil(options.clock.now() + delay)
  }

  private reportFailure(
    queue: PeerQueue,
    error: unknown,
    scope: 'peer' | 'message',
    nextAttemptAt: number
  ): void {
    const { log, emit } = this.context
    log(
      'attempt to %s failed (%s, %d in a row), %d queued, next at %s: %s',
      queue.peer,
      scope,
      queue.failures,
      queue.size,
      new Date(nextAttemptAt).toISOString(),
      describeError(error)
    )
    emit('attempt-failed', () => ({
      peer: queue.peer,
      error,
      scope,
      queued: queue.size,
      failures: queue.failures,
      nextAttemptAt
    }))
    queue.resolveRound()
  }
}

import { type Clock, monotonicNow } from './clock.js'
import type { Deliveries } from './deliveries.js'
import type { EntryFates } from './entry-fates.js'
import { DuplicateIdError, OutboxStoppedError } from './errors.js'
import type { OutboxContext } from './outbox-context.js'
import { PendingEntry } from './pending-entry.js'
import { messageFingerprint } from './recent-deliveries.js'
import type { Entry } from './types.js'
import { validateEntry, validateMessage } from './validate.js'

/** Pause between two tries of a failing store while `stop()` writes what is pending. */
const STOP_RETRY_PAUSE = 100

/** `promise`'s value, or `undefined` when `ms` pass first (on a timer that keeps the process alive). */
function within<T>(clock: Clock, promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve, reject) => {
    const timer = clock.setTimeout(() => resolve(undefined), Math.max(0, ms), { keepAlive: true })
    promise.then(
      (value) => {
        clock.clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clock.clearTimeout(timer)
        reject(error)
      }
    )
  })
}

/**
 * Puts an entry the store gave back where it belongs: the dead letters, or
 * the end of its peer's queue, due at its stored `nextAttemptAt` but never
 * later than its level's longest backoff from now.
 */
export function restoreEntry(context: OutboxContext, stored: Entry): void {
  const { index, rules, options, scheduler } = context
  const entry = PendingEntry.fromEntry(stored)
  entry.accepted = true
  if (index.byId.has(entry.id) || index.dead.has(entry.id) || index.replies.has(entry.id)) return
  if (entry.deadLetter !== undefined) {
    index.dead.set(entry.id, entry)
    return
  }
  if (entry.delivered !== undefined) {
    // delivered before the restart: its reply waits to be taken, and the id stays known
    index.replies.set(entry.id, entry)
    index.delivered.remember(
      entry.id,
      messageFingerprint(entry.peer, entry.protocol, entry.payload)
    )
    return
  }
  const wallNow = options.clock.now()
  const now = scheduler.now()
  entry.expiresAt = rules.expiresAt(entry, now, wallNow)
  const queue = index.queueFor(entry.peer)
  if (queue.size === 0) queue.retryAt = now + rules.restoredDelay(entry, wallNow)
  index.track(queue, entry)
}

/**
 * The bounded part of `stop()`: in-flight attempts get `stopTimeout` to
 * settle and are then aborted (each counts as an attempt); entries still waiting to be
 * accepted are written when their level persists; the ledger gets
 * `stopTimeout` to write what is pending, retrying a failing store, and is
 * then given up on (with an error log saying how much was not written).
 */
export async function stopGracefully(
  context: OutboxContext,
  fates: EntryFates,
  deliveries: Deliveries
): Promise<void> {
  const { options, log, index } = context
  const { clock, stopTimeout } = options
  if (
    (await within(
      clock,
      deliveries.settled().then(() => true),
      stopTimeout
    )) !== true
  ) {
    log(
      'stopping: aborting %d deliveries still in flight after %d ms',
      deliveries.inFlight,
      stopTimeout
    )
    deliveries.stopAll()
    await deliveries.settled()
  }
  const stopped = new OutboxStoppedError('outbox stopped before the message was queued')
  for (const queue of Array.from(index.peers.values())) fates.acceptForStop(queue, stopped)
  const lost = await writePending(context, stopTimeout)
  if (lost > 0) {
    log.error(
      'stopping: the store did not take %d pending changes within %d ms; they are not written',
      lost,
      stopTimeout
    )
  }
}

/** Writes what the ledger holds within `timeout` ms; returns how many changes were given up. */
async function writePending(context: OutboxContext, timeout: number): Promise<number> {
  const { clock } = context.options
  const deadline = monotonicNow(clock) + timeout
  for (;;) {
    const ledger = context.ledger
    ledger.retry()
    const remaining = deadline - monotonicNow(clock)
    if (remaining <= 0) break
    const outcome = await within(clock, ledger.settle(), remaining)
    if (outcome === 'idle') return 0
    if (outcome === undefined) break
    const pause = Math.min(STOP_RETRY_PAUSE, deadline - monotonicNow(clock))
    if (pause > 0) await within(clock, new Promise<void>(() => {}), pause)
  }
  return context.ledger.detach()
}

/**
 * Takes over entries the application wrote to the store itself (the
 * transactional-outbox pattern): each is queued as already durable, at the end
 * of its peer's queue, and never written again until it changes. An id the
 * outbox holds with the same message is left alone; with another message it
 * is a `DuplicateIdError`. Already durable, they are not refused for capacity.
 * Returns the entries taken over.
 */
export function adoptEntries(context: OutboxContext, entries: Entry[]): PendingEntry[] {
  const { index, rules, options, scheduler, emit } = context
  entries.forEach((entry, position) => {
    validateEntry(entry, `entries[${position}]`)
    // an outbox entry is a message: its id follows the message-id rule
    validateMessage(entry, `entries[${position}]`)
  })
  const adopted: PendingEntry[] = []
  for (const stored of entries) {
    const known =
      index.byId.get(stored.id) ?? index.dead.get(stored.id) ?? index.replies.get(stored.id)
    if (known !== undefined) {
      if (!known.sameMessage(stored.peer, stored.protocol, stored.payload)) {
        throw new DuplicateIdError(
          `message id "${stored.id}" is already held with another peer, protocol or payload`
        )
      }
      continue
    }
    const entry = PendingEntry.fromEntry(stored)
    entry.accepted = true
    entry.deadLetter = undefined
    entry.delivered = undefined
    const wallNow = options.clock.now()
    entry.expiresAt = rules.expiresAt(entry, scheduler.now(), wallNow)
    index.track(index.queueFor(entry.peer), entry)
    adopted.push(entry)
    emit('queued', () => ({ entry: entry.toEntry() }))
  }
  for (const peer of new Set(adopted.map((entry) => entry.peer))) {
    const queue = index.peers.get(peer)
    if (queue !== undefined) context.reschedule(queue)
  }
  return adopted
}

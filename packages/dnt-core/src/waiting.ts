import { raceAbort } from './attempt.js'

/**
 * Keeps the process alive while `promise` is pending: the outbox's own timers
 * do not (a queued retry must not hold a process open), but a script awaiting
 * `whenDrained()` or `flush()` must not exit before they settle. A plain
 * platform timer, not the injected clock: it only keeps the event loop busy.
 */
export function keepAlive<T>(promise: Promise<T>): Promise<T> {
  const timer = globalThis.setInterval(() => {}, 2 ** 30)
  const release = (): void => globalThis.clearInterval(timer)
  promise.then(release, release)
  return promise
}

/** `promise`, or the signal's reason when it aborts first. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  return signal === undefined ? promise : raceAbort(() => promise, signal)
}

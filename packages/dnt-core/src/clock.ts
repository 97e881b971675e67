/** Opaque handle returned by `Clock.setTimeout`. */
export type TimerHandle = unknown

/** Options of `Clock.setTimeout`. */
export interface TimerOptions {
  /**
   * Keep the process alive while the timer is pending (default `false`: a
   * pending retry must not keep a process alive on its own; a bound on
   * `stop()` must).
   */
  keepAlive?: boolean
}

/**
 * Where the outbox gets time from; tests inject a manual one instead of sleeping.
 *
 * `now()` is the wall clock (ms since the epoch): it stamps `createdAt` and
 * `nextAttemptAt` and may jump. `monotonic()` never goes back: retries and
 * timeouts are scheduled on it, so a wall-clock step neither delays nor hurries
 * them. A clock without `monotonic` is scheduled on `now()`.
 */
export interface Clock {
  /** Milliseconds since the epoch (or the start of a manual clock). */
  now(): number
  /** Monotonic ms (any origin; never goes back): retries and timeouts are scheduled on it. */
  monotonic?(): number
  /** Calls `callback` once, after `delay` ms; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, delay: number, options?: TimerOptions): TimerHandle
  /** Cancels a timer set with `setTimeout` (a settled or unknown handle is ignored). */
  clearTimeout(handle: TimerHandle): void
}

/** The wall clock, `performance.now()` and the platform's timers (unref'd unless asked otherwise). */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(callback, delay, options) {
    const handle = globalThis.setTimeout(callback, delay)
    if (options?.keepAlive !== true) (handle as { unref?: () => void }).unref?.()
    return handle
  },
  clearTimeout(handle) {
    globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>)
  }
}

/** The clock's monotonic reading, or its wall clock when it has none. */
export function monotonicNow(clock: Clock): number {
  return clock.monotonic === undefined ? clock.now() : clock.monotonic()
}

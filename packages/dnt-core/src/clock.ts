/** Opaque handle returned by `Clock.setTimeout`. */
export type TimerHandle = unknown

/** Where the outbox gets time from; tests inject a manual one instead of sleeping. */
export interface Clock {
  /** Milliseconds since the epoch (or the start of a manual clock). */
  now(): number
  /** Calls `callback` once, after `delay` ms; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, delay: number): TimerHandle
  /** Cancels a timer set with `setTimeout` (a settled or unknown handle is ignored). */
  clearTimeout(handle: TimerHandle): void
}

/** The wall clock and the platform's timers (unref'd where the platform allows it). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, delay) {
    const handle = globalThis.setTimeout(callback, delay)
    // a pending retry must not keep a process alive on its own
    ;(handle as { unref?: () => void }).unref?.()
    return handle
  },
  clearTimeout(handle) {
    globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>)
  }
}

/** Waits the same interval after every failure (the Go original: 15 s). */
export interface FixedBackoff {
  type: 'fixed'
  /** Milliseconds, > 0 (the Outbox waits at least 100 ms whatever the interval). */
  interval: number
}

/**
 * `initial * factor^(failures - 1)`, capped at `max`. With `jitter: 'full'`
 * (the default) the wait is drawn uniformly from `[minimum, cap]`, which
 * spreads the retries of many senders after a shared outage.
 */
export interface ExponentialBackoff {
  type: 'exponential'
  /** Milliseconds after the first failure, > 0. */
  initial: number
  /** Largest wait, ms, >= `initial`. */
  max: number
  /** Growth per failure, >= 1 (default 2). */
  factor?: number
  jitter?: 'full' | 'none'
  /** Lower bound of a jittered wait, ms (default 100, never above the cap; the Outbox never waits less than 100 ms). */
  minimum?: number
}

/**
 * A user function: milliseconds to wait after the given number of consecutive
 * failures. It is guarded at run time: a result that is not a finite number
 * >= 0, or a throw, is replaced by the default exponential backoff and logged.
 * The Outbox never waits less than 100 ms after a failure (`0` means 100 ms).
 */
export type BackoffFunction = (failures: number, random: () => number) => number

/** How long a peer waits after a failed attempt: fixed, exponential, or a function of your own. */
export type Backoff = FixedBackoff | ExponentialBackoff | BackoffFunction

/** What a broken `BackoffFunction` is replaced with: 1 s doubling to 5 min, full jitter. */
export const FALLBACK_BACKOFF: ExponentialBackoff = {
  type: 'exponential',
  initial: 1_000,
  max: 300_000,
  factor: 2,
  jitter: 'full'
}

function exponentialCap(backoff: ExponentialBackoff, failures: number): number {
  const factor = backoff.factor ?? 2
  return Math.min(backoff.max, backoff.initial * factor ** Math.max(0, failures - 1))
}

/**
 * Milliseconds to wait after `failures` (>= 1) consecutive failures. Throws
 * `RangeError` when a user function gives something that is not a finite
 * number >= 0 (the outbox catches it; see `guardedBackoffDelay`).
 */
export function backoffDelay(
  backoff: Backoff,
  failures: number,
  random: () => number = Math.random
): number {
  let delay: number
  if (typeof backoff === 'function') {
    delay = backoff(failures, random)
  } else if (backoff.type === 'fixed') {
    delay = backoff.interval
  } else {
    const cap = exponentialCap(backoff, failures)
    if (backoff.jitter === 'none') {
      delay = cap
    } else {
      const minimum = Math.min(backoff.minimum ?? 100, cap)
      delay = minimum + random() * (cap - minimum)
    }
  }
  if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) {
    throw new RangeError(
      `backoff gave ${String(delay)} ms after ${failures} failures; expected a finite number >= 0`
    )
  }
  return delay
}

/**
 * `backoffDelay`, never throwing: a user function that throws or returns
 * something unusable is replaced by `FALLBACK_BACKOFF` for this call, and
 * `onBroken` hears why.
 */
export function guardedBackoffDelay(
  backoff: Backoff,
  failures: number,
  random: () => number,
  onBroken: (error: unknown) => void
): number {
  try {
    return backoffDelay(backoff, failures, random)
  } catch (error) {
    onBroken(error)
    return backoffDelay(FALLBACK_BACKOFF, failures, random)
  }
}

/**
 * The longest wait this backoff gives after `failures` failures (no jitter):
 * how far in the future a retry time restored from a store may be.
 */
export function backoffCeiling(backoff: Backoff, failures: number): number {
  if (typeof backoff === 'function') {
    return guardedBackoffDelay(
      backoff,
      Math.max(1, failures),
      () => 1,
      () => {}
    )
  }
  if (backoff.type === 'fixed') return backoff.interval
  return backoff.max
}

const BACKOFF_FIELDS = {
  fixed: new Set(['type', 'interval']),
  exponential: new Set(['type', 'initial', 'max', 'factor', 'jitter', 'minimum'])
}

/** Throws `TypeError` naming the field when `backoff` is not a usable strategy. */
export function validateBackoff(backoff: unknown, where: string): asserts backoff is Backoff {
  if (typeof backoff === 'function') return
  const value = backoff as Record<string, unknown> | null
  if (value == null || typeof value !== 'object') {
    throw new TypeError(`${where}.backoff must be an object or a function`)
  }
  const number = (name: string, test: (n: number) => boolean, rule: string): void => {
    const field = value[name]
    if (typeof field !== 'number' || !Number.isFinite(field) || !test(field)) {
      throw new TypeError(`${where}.backoff.${name} must be ${rule} (got ${String(field)})`)
    }
  }
  if (value.type !== 'fixed' && value.type !== 'exponential') {
    throw new TypeError(`${where}.backoff.type must be "fixed" or "exponential"`)
  }
  for (const name of Object.keys(value)) {
    if (!BACKOFF_FIELDS[value.type].has(name)) {
      throw new TypeError(`${where}.backoff.${name} is not an option of a ${value.type} backoff`)
    }
  }
  // a zero wait would retry an unreachable peer in a busy loop
  if (value.type === 'fixed') {
    number('interval', (n) => n > 0, 'a number of milliseconds > 0')
    return
  }
  number('initial', (n) => n > 0, 'a number of milliseconds > 0')
  number('max', (n) => n >= (value.initial as number), 'a number of milliseconds >= initial')
  if (value.factor !== undefined) number('factor', (n) => n >= 1, 'a number >= 1')
  if (value.minimum !== undefined) number('minimum', (n) => n >= 0, 'a number >= 0')
  if (value.jitter !== undefined && value.jitter !== 'full' && value.jitter !== 'none') {
    throw new TypeError(`${where}.backoff.jitter must be "full" or "none"`)
  }
}

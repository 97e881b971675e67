/** Waits the same interval after every failure (the Go original: 15 s). */
export interface FixedBackoff {
  type: 'fixed'
  /** Milliseconds. */
  interval: number
}

/**
 * `initial * factor^(failures - 1)`, capped at `max`. With `jitter: 'full'`
 * (the default) the wait is drawn uniformly from `[minimum, cap]`, which
 * spreads the retries of many senders after a shared outage.
 */
export interface ExponentialBackoff {
  type: 'exponential'
  initial: number
  max: number
  factor?: number
  jitter?: 'full' | 'none'
  /** Lower bound of a jittered wait, ms (default 100, never above the cap). */
  minimum?: number
}

/** A user function: milliseconds to wait after the given number of consecutive failures. */
export type BackoffFunction = (failures: number, random: () => number) => number

/** How long a peer waits after a failed attempt: fixed, exponential, or a function of your own. */
export type Backoff = FixedBackoff | ExponentialBackoff | BackoffFunction

/** Milliseconds to wait after `failures` (>= 1) consecutive failures. */
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
    const factor = backoff.factor ?? 2
    const cap = Math.min(backoff.max, backoff.initial * factor ** Math.max(0, failures - 1))
    if (backoff.jitter === 'none') {
      delay = cap
    } else {
      const minimum = Math.min(backoff.minimum ?? 100, cap)
      delay = minimum + random() * (cap - minimum)
    }
  }
  if (!Number.isFinite(delay) || delay < 0) {
    throw new RangeError(
      `backoff gave ${delay} ms after ${failures} failures; expected a finite number >= 0`
    )
  }
  return delay
}

/** Throws `TypeError` when `backoff` is not a usable strategy. */
export function validateBackoff(backoff: unknown, where: string): asserts backoff is Backoff {
  if (typeof backoff === 'function') return
  const value = backoff as
    | (Partial<Omit<FixedBackoff, 'type'> & Omit<ExponentialBackoff, 'type'>> & {
        type?: string
      })
    | null
  if (value == null || typeof value !== 'object') {
    throw new TypeError(`${where}: backoff must be an object or a function`)
  }
  const nonNegative = (name: string, number: unknown): void => {
    if (typeof number !== 'number' || !Number.isFinite(number) || number < 0) {
      throw new TypeError(`${where}: backoff.${name} must be a finite number >= 0`)
    }
  }
  if (value.type === 'fixed') {
    nonNegative('interval', value.interval)
  } else if (value.type === 'exponential') {
    nonNegative('initial', value.initial)
    nonNegative('max', value.max)
    if (value.factor !== undefined) nonNegative('factor', value.factor)
    if (value.minimum !== undefined) nonNegative('minimum', value.minimum)
    if (value.jitter !== undefined && value.jitter !== 'full' && value.jitter !== 'none') {
      throw new TypeError(`${where}: backoff.jitter must be "full" or "none"`)
    }
  } else {
    throw new TypeError(`${where}: backoff.type must be "fixed" or "exponential"`)
  }
}

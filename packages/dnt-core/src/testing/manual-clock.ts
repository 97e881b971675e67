import type { Clock, TimerHandle } from '../clock.js'

interface Timer {
  id: number
  at: number
  callback: () => void
}

/**
 * A clock that only moves when told to; timers fire in time order.
 *
 * It keeps two readings: `monotonic()`, on which timers fire, and the wall
 * clock `now()`, which moves with it and can also be stepped on its own with
 * `stepWall()` (as NTP or a user may do), without firing any timer.
 */
export interface ManualClock extends Clock {
  monotonic(): number
  /** Moves time forward by `ms`, firing every timer that falls due, then lets promises settle. */
  advance(ms: number): Promise<void>
  /** Moves to the next pending timer (if any) and fires it; returns false when none is pending. */
  next(): Promise<boolean>
  /** Steps the wall clock by `ms` (negative: backwards); monotonic time and timers are untouched. */
  stepWall(ms: number): void
  /** Number of timers pending. */
  readonly pending: number
}

/** Lets promise chains started by timers run to their next real wait. */
async function settle(): Promise<void> {
  for (let round = 0; round < 20; round++)
    await new Promise<void>((resolve) => setImmediate(resolve))
}

/** A `Clock` for deterministic tests: `clock.advance(15_000)` instead of sleeping. */
export function manualClock(start = 1_700_000_000_000): ManualClock {
  let monotonic = 0
  let wallOffset = start
  let nextId = 1
  let timers: Timer[] = []

  const fireDue = async (until: number): Promise<void> => {
    for (;;) {
      timers.sort((a, b) => a.at - b.at || a.id - b.id)
      const timer = timers[0]
      if (timer == null || timer.at > until) break
      timers.shift()
      monotonic = Math.max(monotonic, timer.at)
      timer.callback()
      await settle()
    }
    monotonic = Math.max(monotonic, until)
  }

  return {
    now: () => wallOffset + monotonic,
    monotonic: () => monotonic,
    setTimeout(callback, delay): TimerHandle {
      const timer = { id: nextId++, at: monotonic + Math.max(0, delay), callback }
      timers.push(timer)
      return timer.id
    },
    clearTimeout(handle) {
      timers = timers.filter((timer) => timer.id !== handle)
    },
    async advance(ms) {
      await settle()
      await fireDue(monotonic + ms)
      await settle()
    },
    async next() {
      await settle()
      timers.sort((a, b) => a.at - b.at || a.id - b.id)
      const timer = timers[0]
      if (timer == null) return false
      await fireDue(timer.at)
      return true
    },
    stepWall(ms) {
      wallOffset += ms
    },
    get pending() {
      return timers.length
    }
  }
}

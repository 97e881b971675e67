import type { Clock, TimerHandle } from '../clock.js'

interface Timer {
  id: number
  at: number
  callback: () => void
}

/** A clock that only moves when told to; timers fire in time order. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, firing every timer that falls due, then lets promises settle. */
  advance(ms: number): Promise<void>
  /** Moves to the next pending timer (if any) and fires it; returns false when none is pending. */
  next(): Promise<boolean>
  /** Number of timers pending. */
  readonly pending: number
}

async function settle(): Promise<void> {
  // let promise chains started by the timers run to their next real wait
  for (let round = 0; round < 20; round++)
    await new Promise<void>((resolve) => setImmediate(resolve))
}

/** A `Clock` for deterministic tests: `clock.advance(15_000)` instead of sleeping. */
export function manualClock(start = 1_700_000_000_000): ManualClock {
  let now = start
  let nextId = 1
  let timers: Timer[] = []

  const fireDue = async (until: number): Promise<void> => {
    for (;;) {
      timers.sort((a, b) => a.at - b.at || a.id - b.id)
      const timer = timers[0]
      if (timer == null || timer.at > until) break
      timers.shift()
      now = Math.max(now, timer.at)
      timer.callback()
      await settle()
    }
    now = Math.max(now, until)
  }

  return {
    now: () => now,
    setTimeout(callback, delay): TimerHandle {
      const timer = { id: nextId++, at: now + Math.max(0, delay), callback }
      timers.push(timer)
      return timer.id
    },
    clearTimeout(handle) {
      timers = timers.filter((timer) => timer.id !== handle)
    },
    async advance(ms) {
      await settle()
      await fireDue(now + ms)
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
    get pending() {
      return timers.length
    }
  }
}

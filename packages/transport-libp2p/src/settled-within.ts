import type { Clock, TimerHandle } from '@dntkit/core'

/**
 * Waits for `work` to settle, for at most `delay` ms on `clock`: true when
 * it settled in time, false when the time ran out first (the work goes on).
 * The timer keeps the process alive: it bounds a stop.
 */
export async function settledWithin(
  work: Promise<unknown>,
  clock: Clock,
  delay: number
): Promise<boolean> {
  let timer: TimerHandle | undefined
  const timeUp = new Promise<false>((resolve) => {
    timer = clock.setTimeout(() => resolve(false), delay, { keepAlive: true })
  })
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true
      ),
      timeUp
    ])
  } finally {
    clock.clearTimeout(timer)
  }
}

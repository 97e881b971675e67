/** One memory sample of a process, after a full GC when `--expose-gc` is on. */
export interface MemorySample {
  /** ms since the sampler started. */
  at: number
  heapUsed: number
  rss: number
  /** Entries the process's outbox holds, when it has one. */
  queued?: number
}

/** Samples memory every `interval` ms until stopped. */
export function memorySampler(
  interval: number,
  queued?: () => number
): { samples: MemorySample[]; stop(): void } {
  const started = Date.now()
  const samples: MemorySample[] = []
  const collect = (globalThis as { gc?: () => void }).gc
  const take = (): void => {
    collect?.()
    const usage = process.memoryUsage()
    const sample: MemorySample = {
      at: Date.now() - started,
      heapUsed: usage.heapUsed,
      rss: usage.rss
    }
    if (queued !== undefined) sample.queued = queued()
    samples.push(sample)
  }
  take()
  const timer = setInterval(take, interval)
  return {
    samples,
    stop() {
      clearInterval(timer)
      take()
    }
  }
}

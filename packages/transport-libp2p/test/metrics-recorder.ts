import type { Metrics } from '@libp2p/interface'

/** A `Metrics` implementation that keeps every value, for assertions. */
export function recordingMetrics(): Metrics & {
  values: Map<string, number | Record<string, number> | number[]>
} {
  const values = new Map<string, number | Record<string, number> | number[]>()
  const scalar = (name: string) => ({
    update: (value: number) => void values.set(name, value),
    increment: (value = 1) => void values.set(name, ((values.get(name) as number) ?? 0) + value),
    decrement: (value = 1) => void values.set(name, ((values.get(name) as number) ?? 0) - value),
    reset: () => void values.delete(name),
    timer: () => () => {},
    observe: (value: number) =>
      void values.set(name, [...((values.get(name) as number[]) ?? []), value])
  })
  const group = (name: string) => {
    const current = (): Record<string, number> => (values.get(name) as Record<string, number>) ?? {}
    return {
      update: (changes: Record<string, number>) =>
        void values.set(name, { ...current(), ...changes }),
      increment: (changes: Record<string, number | true>) => {
        const next = { ...current() }
        for (const [key, value] of Object.entries(changes))
          next[key] = (next[key] ?? 0) + (value === true ? 1 : value)
        values.set(name, next)
      },
      decrement: () => {},
      reset: () => void values.delete(name),
      timer: () => () => {},
      observe: () => {}
    }
  }
  const metrics = {
    values,
    trackMultiaddrConnection: () => {},
    trackProtocolStream: () => {},
    registerMetric: scalar,
    registerMetricGroup: group,
    registerCounter: scalar,
    registerCounterGroup: group,
    registerHistogram: scalar,
    registerHistogramGroup: group,
    registerSummary: scalar,
    registerSummaryGroup: group,
    traceFunction: (_name: string, fn: unknown) => fn,
    createTrace: () => undefined
  }
  return metrics as unknown as Metrics & { values: typeof values }
}

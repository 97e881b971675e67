/** One figure of the report, in the format DESIGN.md fixes for bench/results/latest.json. */
export interface ScenarioResult {
  name: string
  metric: string
  unit: string
  value: number
  /** The comparison run in the same process run. */
  baseline?: { name: string; value: number }
  /** value / baseline.value (for "lower is better" metrics the scenario says so in `goal`). */
  ratio?: number
  /** The target, in words, e.g. ">= 0.5x the 10k figure". */
  goal?: string
  /** Whether the goal was met, when the scenario can tell. */
  met?: boolean
}

export interface BenchContext {
  /** Smaller sizes, for CI's smoke run: figures are produced, timings are not judged. */
  quick: boolean
  /** A fresh temporary directory, removed after the run. */
  tmpdir(): Promise<string>
  /** A progress line on stderr. */
  log(line: string): void
}

/** A scenario module in src/scenarios/ default-exports one of these. */
export interface Scenario {
  /** Short name used with --only. */
  name: string
  run(context: BenchContext): Promise<ScenarioResult[]>
}

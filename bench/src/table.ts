import type { ScenarioResult } from './types.js'

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  const abs = Math.abs(value)
  if (abs >= 100) return Math.round(value).toLocaleString('en-US')
  if (abs >= 1) return value.toFixed(2)
  return value.toPrecision(3)
}

/** The report as a Markdown table (also what the README shows). */
export function formatTable(results: Array<ScenarioResult & { scenario: string }>): string {
  const rows = [
    ['scenario', 'figure', 'value', 'baseline', 'ratio', 'goal', 'met'],
    ...results.map((result) => [
      result.scenario,
      result.name,
      `${format(result.value)} ${result.unit}`,
      result.baseline === undefined
        ? ''
        : `${format(result.baseline.value)} ${result.unit} (${result.baseline.name})`,
      result.ratio === undefined ? '' : `${format(result.ratio)}x`,
      result.goal ?? '',
      result.met === undefined ? '' : result.met ? 'yes' : 'NO'
    ])
  ]
  const lines = rows.map((row) => `| ${row.join(' | ')} |`)
  lines.splice(1, 0, `|${rows[0]!.map(() => '---').join('|')}|`)
  return lines.join('\n')
}

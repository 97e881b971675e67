/**
 * Runs every scenario in src/scenarios/ in one process run, prints one table
 * (figure, baseline, ratio, goal) and writes results/latest.json in the format
 * DESIGN.md fixes. `--quick` uses small sizes (CI smoke run: the JSON is
 * produced, timings are not judged); `--only a,b` runs some scenarios.
 * The process exits when the report is written (libp2p keeps timers alive).
 * Run it through pnpm (`pnpm bench`): on Node 20 that loads the repository's
 * Promise.withResolvers polyfill (CONTRIBUTING.md, "Node versions").
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { cpus, freemem, tmpdir, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { formatTable } from './table.js'
import type { BenchContext, Scenario, ScenarioResult } from './types.js'

const here = dirname(fileURLToPath(import.meta.url))
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string', default: join(here, '..', 'results', 'latest.json') }
  }
})

const temporary: string[] = []
const context: BenchContext = {
  quick: values.quick === true,
  async tmpdir() {
    const directory = await mkdtemp(join(tmpdir(), 'dntkit-bench-'))
    temporary.push(directory)
    return directory
  },
  log(line) {
    process.stderr.write(`  ${line}\n`)
  }
}

const wanted = values.only?.split(',').map((name) => name.trim())
const files = (await readdir(join(here, 'scenarios')))
  .filter((file) => /\.(ts|js)$/.test(file))
  .sort()
const results: Array<ScenarioResult & { scenario: string }> = []
const failures: string[] = []
const started = Date.now()

for (const file of files) {
  const scenario = (await import(join(here, 'scenarios', file))).default as Scenario
  if (wanted !== undefined && !wanted.includes(scenario.name)) continue
  process.stderr.write(`> ${scenario.name}${context.quick ? ' (quick)' : ''}\n`)
  try {
    for (const result of await scenario.run(context)) {
      results.push({ scenario: scenario.name, ...result })
      process.stderr.write(`  = ${result.name}: ${result.value} ${result.unit}\n`)
    }
  } catch (error) {
    failures.push(`${scenario.name}: ${(error as Error).stack ?? String(error)}`)
  } finally {
    for (const directory of temporary.splice(0))
      await rm(directory, { recursive: true, force: true })
  }
}

const cpu = cpus()
const report = {
  machine: {
    cpus: cpu.length,
    model: cpu[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    freeMemoryBytes: freemem(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    quick: context.quick,
    date: new Date().toISOString(),
    seconds: Math.round((Date.now() - started) / 1000)
  },
  scenarios: results
}
await mkdir(dirname(values.out as string), { recursive: true })
await writeFile(values.out as string, `${JSON.stringify(report, null, 2)}\n`)
process.stdout.write(`${formatTable(results)}\n`)
process.stdout.write(
  `\n${cpu.length} x ${report.machine.model}, Node ${process.version}; written to ${values.out}\n`
)
if (failures.length > 0) {
  process.stderr.write(`\n${failures.length} scenario(s) failed:\n${failures.join('\n')}\n`)
}
// libp2p leaves timers behind (and a failed scenario may too): end the run here
process.exit(failures.length > 0 ? 1 : 0)

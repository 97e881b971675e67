/**
 * Writes the table of bench/results/latest.json into the root README, between
 * the `<!-- bench:start -->` and `<!-- bench:end -->` markers.
 * Run after `pnpm bench`: `pnpm --filter @dntkit/bench run readme`.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatTable } from './table.js'

const here = dirname(fileURLToPath(import.meta.url))
const reportPath = join(here, '..', 'results', 'latest.json')
const readmePath = join(here, '..', '..', 'README.md')

const report = JSON.parse(await readFile(reportPath, 'utf8'))
if (report.machine?.quick === true) {
  process.stderr.write('refusing to publish a --quick run in the README; run `pnpm bench` first\n')
  process.exit(2)
}
const machine = report.machine
const table = `${formatTable(report.scenarios)}\n\nMeasured ${machine.date.slice(0, 10)} on ${machine.cpus} x ${machine.model}, ${Math.round(machine.memoryBytes / 2 ** 30)} GiB, Node ${machine.node}, ${machine.platform}, with \`pnpm bench\` (${machine.seconds} s).`
const readme = await readFile(readmePath, 'utf8')
const start = '<!-- bench:start -->'
const end = '<!-- bench:end -->'
const from = readme.indexOf(start)
const to = readme.indexOf(end)
if (from < 0 || to < from) {
  process.stderr.write(`README.md has no ${start} ... ${end} section\n`)
  process.exit(2)
}
await writeFile(
  readmePath,
  `${readme.slice(0, from + start.length)}\n${table}\n${readme.slice(to)}`
)
process.stdout.write(`README.md benchmark table updated from ${reportPath}\n`)

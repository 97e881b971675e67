/**
 * The long fuzz run: the fuzz tests of the packages that parse untrusted
 * bytes (`test/fuzz-*.spec.ts` of store-file and cli), each property with
 * `FUZZ_RUNS` runs (default 20,000 here, against a few hundred in the
 * ordinary test run). `pnpm --filter @dntkit/chaos fuzz`; FUZZ_RUNS=100000
 * for more. Exits non-zero when a property fails (fast-check prints the seed
 * and the shrunk counterexample).
 */
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const runs = process.env.FUZZ_RUNS ?? '20000'
const packages = ['packages/store-file', 'packages/cli']
let failed = 0
for (const folder of packages) {
  const files = readdirSync(join(root, folder, 'test'))
    .filter((name) => /^fuzz-.*\.spec\.ts$/.test(name))
    .map((name) => `test/${name}`)
  if (files.length === 0) continue
  process.stderr.write(`> ${folder}: ${files.join(' ')} with FUZZ_RUNS=${runs}\n`)
  const started = Date.now()
  const result = spawnSync(
    process.execPath,
    [join(root, 'node_modules/vitest/vitest.mjs'), 'run', ...files],
    {
      cwd: join(root, folder),
      env: { ...process.env, FUZZ_RUNS: runs, FUZZ_VERBOSE: '1' },
      stdio: 'inherit'
    }
  )
  process.stderr.write(
    `< ${folder}: exit ${result.status} in ${Math.round((Date.now() - started) / 1000)} s\n`
  )
  if (result.status !== 0) failed++
}
process.exit(failed === 0 ? 0 : 1)

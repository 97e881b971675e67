// Packs every published package as `pnpm publish` would and checks the tarballs from the
// outside: publint --strict, attw (esm-only profile), LICENSE (the root's) and the metadata
// fields every published package.json carries. Usage: pnpm run check:packages
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { finish, packAll, ROOT, run } from './workspace.mjs'

const REPOSITORY = 'git+https://github.com/dntkit/dntkit.git'
const HOMEPAGE = 'https://github.com/dntkit/dntkit'
const ENGINES = '>=22'

const bin = (name) => join(ROOT, 'node_modules', '.bin', name)
const destination = mkdtempSync(join(tmpdir(), 'dntkit-packed-'))
const problems = []
try {
  const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8')
  for (const entry of await packAll(destination)) {
    const at = `${entry.name} (${entry.tarball})`
    const read = (file) => run('tar', ['-xOzf', entry.tarball, `package/${file}`])
    const manifest = JSON.parse(await read('package.json'))
    if (!entry.files.includes('LICENSE')) problems.push(`${at}: no LICENSE in the tarball`)
    else if ((await read('LICENSE')) !== license)
      problems.push(`${at}: LICENSE differs from the root's`)
    if (manifest.license !== 'MIT') problems.push(`${at}: license is ${manifest.license}, not MIT`)
    const directory = `packages/${entry.folder}`
    const repository = manifest.repository ?? {}
    if (
      repository.type !== 'git' ||
      repository.url !== REPOSITORY ||
      repository.directory !== directory
    ) {
      problems.push(
        `${at}: repository must be { type: git, url: ${REPOSITORY}, directory: ${directory} }, is ${JSON.stringify(manifest.repository)}`
      )
    }
    if (!manifest.homepage?.startsWith(`${HOMEPAGE}/tree/main/${directory}`)) {
      problems.push(
        `${at}: homepage must point at ${HOMEPAGE}/tree/main/${directory}, is ${manifest.homepage}`
      )
    }
    if (manifest.bugs?.url !== `${HOMEPAGE}/issues`)
      problems.push(`${at}: bugs.url must be ${HOMEPAGE}/issues`)
    if (manifest.engines?.node !== ENGINES)
      problems.push(`${at}: engines.node must be ${ENGINES}, is ${manifest.engines?.node}`)
    for (const [name, range] of Object.entries({
      ...manifest.dependencies,
      ...manifest.peerDependencies
    })) {
      if (String(range).startsWith('workspace:'))
        problems.push(`${at}: ${name} still has the range ${range}`)
    }
    for (const [tool, args] of [
      ['publint', ['run', '--strict', entry.tarball]],
      [
        'attw',
        [entry.tarball, '--profile', 'esm-only', '--format', 'ascii', '--no-color', '--no-emoji']
      ]
    ]) {
      try {
        await run(bin(tool), args, { timeout: 120_000 })
        console.log(`${entry.name}: ${tool} clean`)
      } catch (error) {
        problems.push(`${at}: ${tool}: ${error.message}`)
      }
    }
  }
} finally {
  rmSync(destination, { recursive: true, force: true })
}
finish(
  problems,
  'packages: publint --strict and attw (esm-only) clean; LICENSE and metadata in every tarball'
)

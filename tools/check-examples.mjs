// The examples are starter templates: each is copied out of the repository with the packed
// packages, installed with npm as a user would (registry for everything else), and must then
// pass `npm start` (a program exits 0; a page's dev server serves its page), `npm run
// typecheck` and `npm test`. Needs Node >= 22 (the examples' engines) and runs without the
// repository's polyfill. Every module an example imports must
// be declared in its package.json. Usage: pnpm run check:examples [name ...]

import { spawn } from 'node:child_process'
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { examples, finish, outsideEnvironment, packAll, ROOT, run } from './workspace.mjs'

const major = Number.parseInt(process.versions.node, 10)
if (major < 22) {
  console.error(
    `check-examples: Node.js ${process.versions.node} is older than the examples' engines (>= 22); put Node 22 or newer first on PATH`
  )
  process.exit(2)
}

/** Package names a file imports (static, dynamic, type-only), node: builtins left out. */
function importedPackages(text) {
  const names = new Set()
  const pattern = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g
  for (const [, specifier] of text.matchAll(pattern)) {
    if (specifier.startsWith('.') || specifier.startsWith('node:')) continue
    const name = specifier.startsWith('@')
      ? specifier.split('/').slice(0, 2).join('/')
      : specifier.split('/')[0]
    if (!builtinModules.includes(name)) names.add(name)
  }
  return names
}

function sourceFiles(directory) {
  return readdirSync(directory, { recursive: true })
    .map((file) => join(directory, file))
    .filter(
      (file) =>
        /\.(ts|mts|js|mjs)$/.test(file) && !file.includes('node_modules') && statSync(file).isFile()
    )
}

/** A terminal colour or style sequence (some tools colour part of an address). */
const ANSI_STYLE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g')

/**
 * `npm start` as a user runs it. A program must exit 0. A server (a web page's dev server)
 * must print the http://127.0.0.1 or localhost address it serves and answer 200 there with
 * a page; it is then stopped: SIGTERM to its process group, SIGKILL 5 s later.
 */
function start(cwd, env) {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['start'], {
      cwd,
      env: { ...env, NO_COLOR: '1' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let output = ''
    let settled = false
    let probing = false
    const stopGroup = () => {
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {}
      setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL')
        } catch {}
      }, 5_000).unref()
    }
    const settle = (error, how) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (error) reject(error)
      else resolve(how)
    }
    const timer = setTimeout(() => {
      stopGroup()
      settle(new Error(`npm start: neither exited nor served after 300 s\n${output.slice(-3000)}`))
    }, 300_000)
    const collect = (chunk) => {
      output += chunk
      const served = /(https?:\/\/(?:127\.0\.0\.1|localhost):\d+\/?)/.exec(
        output.replace(ANSI_STYLE, '')
      )
      if (served === null || probing) return
      probing = true
      fetch(served[1])
        .then(async (response) => {
          const body = await response.text()
          if (response.status !== 200 || !/<html/i.test(body))
            throw new Error(`${served[1]} answered ${response.status} without a page`)
          stopGroup()
          settle(undefined, `served ${served[1]} (200, a page), then stopped`)
        })
        .catch((error) => {
          stopGroup()
          settle(new Error(`npm start: ${error.message}\n${output.slice(-3000)}`))
        })
    }
    child.stdout.setEncoding('utf8').on('data', collect)
    child.stderr.setEncoding('utf8').on('data', collect)
    child.once('error', (error) => settle(new Error(`npm start: ${error.message}`)))
    child.once('close', (code, signal) => {
      if (code === 0) settle(undefined, 'passed')
      else settle(new Error(`npm start: exit ${code ?? signal}\n${output.trim().slice(-6000)}`))
    })
  })
}

const chosen = process.argv.slice(2)
const names = chosen.length > 0 ? chosen : examples()
const problems = []
const scratch = mkdtempSync(join(tmpdir(), 'dntkit-examples-'))
const started = Date.now()
try {
  const packed = await packAll(join(scratch, 'packed'))
  const tarballs = Object.fromEntries(packed.map((entry) => [entry.name, `file:${entry.tarball}`]))
  const environment = outsideEnvironment({ CI: 'true', npm_config_update_notifier: 'false' })

  const prepared = []
  for (const name of names) {
    const source = join(ROOT, 'examples', name)
    const manifest = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8'))
    const declared = new Set(Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }))
    for (const file of sourceFiles(source)) {
      for (const imported of importedPackages(readFileSync(file, 'utf8'))) {
        if (!declared.has(imported)) {
          problems.push(
            `examples/${name}: ${relative(source, file)} imports ${imported}, which its package.json does not declare`
          )
        }
      }
    }
    for (const script of ['start', 'typecheck', 'test']) {
      if (!manifest.scripts?.[script]) problems.push(`examples/${name}: no "${script}" script`)
    }
    if (manifest.engines?.node !== '>=22')
      problems.push(`examples/${name}: engines.node must be >=22`)

    // the copy a user makes: the folder without what the workspace installed or built
    const target = join(scratch, name)
    cpSync(source, target, {
      recursive: true,
      filter: (path) => !/(^|\/)(node_modules|dist|\.turbo)(\/|$)/.test(relative(source, path))
    })
    for (const field of ['dependencies', 'devDependencies']) {
      for (const dependency of Object.keys(manifest[field] ?? {})) {
        if (!String(manifest[field][dependency]).startsWith('workspace:')) continue
        if (!tarballs[dependency])
          problems.push(`examples/${name}: ${dependency} is not a published package`)
        manifest[field][dependency] = tarballs[dependency]
      }
    }
    // the packed packages depend on each other by version: point those at the tarballs too
    manifest.overrides = tarballs
    writeFileSync(join(target, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
    prepared.push({ name, target })
  }

  // installs two at a time (mostly waiting on the registry), the runs one at a time
  const npm = (target, args, timeout) =>
    run('npm', args, { cwd: target, env: environment, timeout })
  const queue = [...prepared]
  await Promise.all(
    [0, 1].map(async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const begun = Date.now()
        try {
          await npm(
            next.target,
            ['install', '--no-audit', '--no-fund', '--loglevel=error'],
            600_000
          )
          console.log(
            `examples/${next.name}: npm install (${Math.round((Date.now() - begun) / 1000)} s)`
          )
        } catch (error) {
          next.failed = true
          problems.push(`examples/${next.name}: npm install failed: ${error.message}`)
        }
      }
    })
  )
  for (const { name, target, failed } of prepared) {
    if (failed) continue
    for (const script of ['start', 'typecheck', 'test']) {
      const begun = Date.now()
      try {
        const how =
          script === 'start'
            ? await start(target, environment)
            : await npm(target, script === 'test' ? [script] : ['run', script], 300_000).then(
                () => 'passed'
              )
        console.log(
          `examples/${name}: npm ${script} ${how} (${Math.round((Date.now() - begun) / 1000)} s)`
        )
      } catch (error) {
        problems.push(`examples/${name}: npm ${script} failed: ${error.message}`)
      }
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
finish(
  problems,
  `examples: ${names.length} copied out, installed from the packed packages, start + typecheck + test passed on Node ${process.versions.node} (${Math.round((Date.now() - started) / 1000)} s)`
)

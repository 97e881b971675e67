// Shared by the tools/check-*.mjs scripts: the repository's layout, running commands, and
// packing the published packages as `pnpm publish` would.
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository's root folder. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** The packages that are published: every packages/* without `private`. */
export function publishedPackages() {
  return readdirSync(join(ROOT, 'packages'))
    .sort()
    .map((folder) => {
      const directory = join(ROOT, 'packages', folder)
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'))
      return { name: manifest.name, version: manifest.version, directory, folder, manifest }
    })
    .filter((entry) => entry.manifest.private !== true)
}

/** The examples/* folders (starter templates). */
export function examples() {
  return readdirSync(join(ROOT, 'examples'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
}

/**
 * The environment for a command run outside the workspace: without the NODE_OPTIONS pnpm
 * sets for the repository's own processes (its --import of tools/polyfill resolves only
 * inside the repository, and a copied-out project must do without it).
 */
export function outsideEnvironment(extra = {}) {
  const environment = { ...process.env, ...extra }
  delete environment.NODE_OPTIONS
  for (const name of Object.keys(environment)) {
    // pnpm's own settings for the running script must not leak into npm in another folder
    if (name.startsWith('npm_config_') || name.startsWith('npm_package_')) delete environment[name]
  }
  return environment
}

/**
 * Runs a command; resolves with its output, rejects with a readable error (the command,
 * its exit, the tail of its output) on a non-zero exit or after `timeout` ms (then killed).
 */
export function run(
  command,
  args,
  { cwd = ROOT, env = process.env, timeout = 300_000, echo = false } = {}
) {
  return new Promise((resolve, reject) => {
    // a process group of its own: a timeout kills what the command started too (tsx runs a
    // second node, npm runs a shell), or their open pipes would hold the output open forever
    const child = spawn(command, args, {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let output = ''
    const collect = (chunk) => {
      output += chunk
      if (echo) process.stdout.write(chunk)
    }
    child.stdout.setEncoding('utf8').on('data', collect)
    child.stderr.setEncoding('utf8').on('data', collect)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }, timeout)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(new Error(`${command} ${args.join(' ')}: ${error.message}`))
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) return resolve(output)
      const how = timedOut ? `still running after ${timeout / 1000} s` : `exit ${code ?? signal}`
      reject(
        new Error(`${command} ${args.join(' ')} (in ${cwd}): ${how}\n${output.trim().slice(-6000)}`)
      )
    })
  })
}

/** How to call pnpm: the one running this script, else the pinned one through npx. */
export function pnpmCommand() {
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: set by pnpm for the script that runs this, not a turbo task input
  const execPath = process.env.npm_execpath
  if (execPath && /pnpm/.test(execPath)) return { command: process.execPath, prefix: [execPath] }
  return { command: 'npx', prefix: ['-y', 'pnpm@10.34.8'] }
}

/**
 * Packs every published package into `destination` with `pnpm pack` (workspace: ranges
 * become versions, `files` applies); resolves to [{ name, version, folder, tarball }].
 */
export async function packAll(destination) {
  mkdirSync(destination, { recursive: true })
  const pnpm = pnpmCommand()
  const packed = []
  for (const entry of publishedPackages()) {
    const output = await run(
      pnpm.command,
      [...pnpm.prefix, 'pack', '--pack-destination', destination, '--json'],
      { cwd: entry.directory, timeout: 120_000 }
    )
    const report = JSON.parse(output.slice(output.indexOf('{')))
    packed.push({
      name: entry.name,
      version: entry.version,
      folder: entry.folder,
      tarball: report.filename,
      files: report.files.map((file) => file.path)
    })
  }
  return packed
}

/** Fails the script with one line per problem, or says that all is well. */
export function finish(problems, success) {
  if (problems.length > 0) {
    for (const problem of problems) console.error(`FAIL ${problem}`)
    process.exit(1)
  }
  console.log(success)
}

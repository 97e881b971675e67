import { type ChildProcess, spawn } from 'node:child_process'
import { createHash, generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The built binary the tests run, as a user would: `node packages/cli/dist/bin.js`. */
export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

export interface Result {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs `dnt ...args` to its end. */
export function dnt(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; timeout?: number } = {}
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, DEBUG: '', DNT_DEBUG: '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout ?? 30_000)
    child.once('error', reject)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
    child.stdin.end(options.input ?? '')
  })
}

/** A running `dnt listen`, its address, and what it wrote. */
export interface Listener {
  process: ChildProcess
  address: string
  peerId: string
  /** Sends `signal` (default SIGTERM) and resolves once the process ended. */
  stop(signal?: NodeJS.Signals): Promise<Result>
}

/** Starts `dnt listen` and resolves once it prints its address. */
export function listen(
  args: string[],
  options: { env?: NodeJS.ProcessEnv } = {}
): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'listen', ...args], {
      env: { ...process.env, DEBUG: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    const closed = new Promise<Result>((done) => {
      child.once('close', (code, signal) => done({ code, signal, stdout, stderr }))
    })
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
      const match = /listening on (\S+)/.exec(stderr)
      const peer = /peer id: (\S+)/.exec(stderr)
      if (match !== null && peer !== null) {
        resolve({
          process: child,
          address: match[1] as string,
          peerId: peer[1] as string,
          stop: async (signal = 'SIGTERM') => {
            child.kill(signal)
            return closed
          }
        })
      }
    })
    void closed.then((result) => reject(new Error(`dnt listen exited early: ${result.stderr}`)))
  })
}

/** A fresh temporary directory, removed by the returned function. */
export function temporaryDirectory(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'dntkit-cli-test-'))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

/** Writes a new key with `dnt keygen`; returns its peer id. */
export async function keygen(file: string): Promise<string> {
  const result = await dnt(['keygen', '--out', file])
  if (result.code !== 0) throw new Error(`keygen failed: ${result.stderr}`)
  return result.stdout.trim()
}

/** Writes an Ed25519 PKCS#8 PEM key (what `openssl genpkey -algorithm ed25519` writes). */
export function writePemKey(file: string, type: 'ed25519' | 'rsa' = 'ed25519'): void {
  const pair =
    type === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('rsa', { modulusLength: 1024 })
  // owner-only, as a key should be (dnt warns about a key others can read)
  writeFileSync(file, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
}

/**
 * Every file under `path` with its size, mtime and SHA-256, to prove a
 * command changed nothing. Directory mtimes are left out: opening a store
 * takes a lock file and removes it again.
 */
export function snapshot(path: string): Record<string, string> {
  const result: Record<string, string> = {}
  const stat = statSync(path, { throwIfNoEntry: false })
  if (stat === undefined) return result
  const files = stat.isFile()
    ? [path]
    : readdirSync(path, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name))
  for (const file of files) {
    const info = statSync(file)
    const hash = createHash('sha256').update(readFileSync(file)).digest('hex')
    result[relative(path, file) || '.'] = `${info.size} ${info.mtimeMs} ${hash}`
  }
  return result
}

/** The lines of a JSONL file. */
export function readJsonl(file: string): Array<Record<string, string>> {
  const text =
    statSync(file, { throwIfNoEntry: false }) === undefined ? '' : readFileSync(file, 'utf8')
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, string>)
}

/** Polls `condition` every 50 ms until it holds (or throws after `timeout`). */
export async function eventually(condition: () => boolean, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** A multiaddr on 127.0.0.1 with nothing listening (a port that was just free). */
export async function deadAddress(peerId: string): Promise<string> {
  const { createServer } = await import('node:net')
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        resolve(typeof address === 'object' && address !== null ? address.port : 0)
      )
    })
  })
  return `/ip4/127.0.0.1/tcp/${port}/p2p/${peerId}`
}

/** A `dnt` process still running, and how it ended once it did. */
export interface Running {
  process: ChildProcess
  closed: Promise<Result>
}

/** Starts `dnt ...args` without waiting for it. */
export function start(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, DEBUG: '', DNT_DEBUG: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const closed = new Promise<Result>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  return { process: child, closed }
}

import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** How a `dnt` child process ended, and what it printed. */
export interface ChildResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** A `dnt` child process that is still running. */
export interface RunningChild {
  process: ChildProcess
  /** Resolves with the first stderr or stdout line matching `pattern`. */
  waitForLine(pattern: RegExp, timeout: number): Promise<RegExpExecArray>
  result: Promise<ChildResult>
}

/** The `dnt` binary next to this module (dist/bin.js once built). */
export function binPath(): string {
  return fileURLToPath(new URL('./bin.js', import.meta.url))
}

/** ms a child gets to stop after SIGTERM before it is killed (SIGKILL). */
const CHILD_STOP_GRACE = 5_000

/**
 * Starts `node dist/bin.js ...args` with output captured. When `signal`
 * aborts, the child is asked to stop (SIGTERM) and killed after a grace
 * period; a child started after the abort is killed at once.
 */
export function startDnt(args: string[], signal?: AbortSignal): RunningChild {
  const child = spawn(process.execPath, [binPath(), ...args], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let killTimer: ReturnType<typeof setTimeout> | undefined
  const onAbort = (): void => {
    child.kill('SIGTERM')
    killTimer = setTimeout(() => child.kill('SIGKILL'), CHILD_STOP_GRACE)
  }
  if (signal?.aborted) child.kill('SIGKILL')
  else signal?.addEventListener('abort', onAbort, { once: true })
  child.once('close', () => {
    signal?.removeEventListener('abort', onAbort)
    clearTimeout(killTimer)
  })
  let stdout = ''
  let stderr = ''
  const watchers = new Set<() => void>()
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    for (const watcher of watchers) watcher()
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
    for (const watcher of watchers) watcher()
  })
  const result = new Promise<ChildResult>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  return {
    process: child,
    result,
    waitForLine(pattern, timeout) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(stderr) ?? pattern.exec(stdout)
          if (match === null) return
          done()
          resolve(match)
        }
        const timer = setTimeout(() => {
          done()
          reject(
            new Error(`no line matching ${pattern} within ${timeout} ms; stderr: ${stderr.trim()}`)
          )
        }, timeout)
        const ended = (): void => {
          done()
          reject(
            new Error(`dnt ${args[0]} exited before printing ${pattern}; stderr: ${stderr.trim()}`)
          )
        }
        const done = (): void => {
          clearTimeout(timer)
          watchers.delete(check)
          child.off('close', ended)
        }
        watchers.add(check)
        child.once('close', ended)
        check()
      })
    }
  }
}

/** Runs `dnt ...args` to its end (killed after `timeout` ms, or stopped when `signal` aborts). */
export async function runDnt(
  args: string[],
  timeout = 30_000,
  signal?: AbortSignal
): Promise<ChildResult> {
  const running = startDnt(args, signal)
  const timer = setTimeout(() => running.process.kill('SIGKILL'), timeout)
  try {
    return await running.result
  } finally {
    clearTimeout(timer)
  }
}

/** Waits `ms`, or less when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    if (signal.aborted) done()
    else signal.addEventListener('abort', done, { once: true })
  })
}

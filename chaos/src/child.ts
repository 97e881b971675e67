import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { ACTORS, CHAOS_ROOT, DNT_BIN } from './constants.js'

/** How a child process ended. */
export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

/** A running child process: its output so far, line by line, and how to stop it. */
export interface Child {
  readonly process: ChildProcess
  readonly pid: number
  /** Everything written to stdout / stderr so far. */
  stdout(): string
  stderr(): string
  /** Resolves when the process has exited (and its output is closed). */
  readonly exited: Promise<Exit>
  /** Resolves with the first match of `pattern` in stdout (stderr too with `both`). */
  waitFor(pattern: RegExp, timeout?: number, stream?: 'stdout' | 'stderr'): Promise<RegExpExecArray>
  /** Calls `listener` with every complete stdout line; returns a function that stops it. */
  onLine(listener: (line: string) => void): () => void
  /** The next JSON line on stdout that has `key` (actors report this way). */
  next<T>(key: string, timeout?: number): Promise<T>
  /** Sends a JSON command line, then resolves with the next JSON line that has `key`. */
  request<T>(command: unknown, key: string, timeout?: number): Promise<T>
  /** Writes one line to its stdin. */
  send(line: string): void
  /** Sends `signal` (SIGKILL by default) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<Exit>
}

export interface ChildOptions {
  env?: Record<string, string>
  /** SIGKILL after this many ms (default 120 s): no chaos process outlives its test. */
  timeout?: number
  cwd?: string
}

/** Every child started and not yet exited, so a failing test can kill them all. */
const running = new Set<Child>()

function start(command: string, args: string[], options: ChildOptions = {}): Child {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, DEBUG: '', DNT_DEBUG: '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  let partial = ''
  const listeners = new Set<(line: string) => void>()
  /** Every JSON object line of stdout, and per key the index of the last one `next` took. */
  const reports: Array<Record<string, unknown>> = []
  const taken = new Map<string, number>()
  const watchers = new Set<() => void>()
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    partial += chunk
    const lines = partial.split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      if (line.startsWith('{')) {
        try {
          reports.push(JSON.parse(line) as Record<string, unknown>)
        } catch {
          // not a report
        }
      }
      for (const listener of listeners) listener(line)
    }
    for (const watcher of watchers) watcher()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
    for (const watcher of watchers) watcher()
  })
  child.stdin.on('error', () => {})
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout ?? 120_000)
  const exited = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      running.delete(handle)
      for (const watcher of watchers) watcher()
      resolve({ code, signal })
    })
  })
  let ended = false
  exited.then(
    () => {
      ended = true
    },
    () => {
      ended = true
    }
  )
  const handle: Child = {
    process: child,
    pid: child.pid ?? -1,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitFor(pattern, timeout = 30_000, stream = 'stdout') {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(stream === 'stdout' ? stdout : stderr)
          if (match !== null) {
            done()
            resolve(match)
          } else if (ended) {
            done()
            reject(
              new Error(
                `${command} ${args.join(' ')} exited before printing ${pattern}\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`
              )
            )
          }
        }
        const timer = setTimeout(() => {
          done()
          reject(
            new Error(
              `no ${pattern} from ${args.join(' ')} within ${timeout} ms\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`
            )
          )
        }, timeout)
        const done = (): void => {
          clearTimeout(timer)
          watchers.delete(check)
        }
        watchers.add(check)
        check()
      })
    },
    onLine(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    next<T>(key: string, timeout = 60_000) {
      return new Promise<T>((resolve, reject) => {
        // reports are taken in order, each once, whether they arrived before this call or after
        const take = (): boolean => {
          const from = (taken.get(key) ?? -1) + 1
          for (let index = from; index < reports.length; index++) {
            const report = reports[index] as Record<string, unknown>
            if (!(key in report)) continue
            taken.set(key, index)
            resolve(report as T)
            return true
          }
          return false
        }
        if (take()) return
        const listener = (): void => {
          if (take()) stop()
        }
        const timer = setTimeout(() => {
          stop()
          reject(
            new Error(`no "${key}" report within ${timeout} ms\nstderr: ${stderr.slice(-2000)}`)
          )
        }, timeout)
        const stop = (): void => {
          clearTimeout(timer)
          listeners.delete(listener)
        }
        listeners.add(listener)
        exited.then(() => {
          if (take()) return
          stop()
          reject(new Error(`exited before reporting "${key}"\nstderr: ${stderr.slice(-2000)}`))
        })
      })
    },
    request<T>(command: unknown, key: string, timeout?: number) {
      const answer = handle.next<T>(key, timeout)
      child.stdin.write(`${JSON.stringify(command)}\n`)
      return answer
    },
    send(line) {
      child.stdin.write(`${line}\n`)
    },
    async kill(signal = 'SIGKILL') {
      if (!ended) child.kill(signal)
      return exited
    }
  }
  running.add(handle)
  return handle
}

/** Runs the built `dnt` binary. */
export function startDnt(args: string[], options?: ChildOptions): Child {
  return start(process.execPath, [DNT_BIN, ...args], options)
}

/** Runs `dnt` to its end. */
export async function runDnt(
  args: string[],
  options?: ChildOptions
): Promise<Exit & { stdout: string; stderr: string }> {
  const child = startDnt(args, options)
  child.process.stdin?.end()
  const exit = await child.exited
  return { ...exit, stdout: child.stdout(), stderr: child.stderr() }
}

/** Runs an actor script of src/actors/ with `options` as its JSON argument. */
export function startActor(name: string, options: unknown, init: ChildOptions = {}): Child {
  return start(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', join(ACTORS, `${name}.ts`), JSON.stringify(options)],
    { cwd: CHAOS_ROOT, ...init }
  )
}

/** SIGKILLs every child still running (for afterEach / afterAll). */
export async function killAll(): Promise<void> {
  await Promise.all(Array.from(running, (child) => child.kill('SIGKILL')))
}

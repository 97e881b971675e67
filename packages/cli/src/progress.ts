import type { CliIo } from './command.js'
import { PROGRESS_INTERVAL } from './constants.js'
import { formatAge } from './format.js'

/** What the progress line shows. */
export interface ProgressState {
  delivered: number
  queued: number
  failedAttempts: number
}

/**
 * A progress line on stderr, redrawn in place, while a command waits: only
 * when stderr is a TTY (scripts and pipes see nothing). Returns a function
 * that erases it.
 */
export function showProgress(io: CliIo, state: () => ProgressState, deadline: number): () => void {
  if (io.stderr.isTTY !== true) return () => {}
  const started = Date.now()
  const draw = (): void => {
    const now = Date.now()
    const { delivered, queued, failedAttempts } = state()
    const seconds = Math.max(0.001, (now - started) / 1000)
    const rate = (delivered / seconds).toFixed(1)
    const left = formatAge(Math.max(0, deadline - now))
    const line = `delivered ${delivered} · queued ${queued} · failed attempts ${failedAttempts} · ${rate} msg/s · ${left} left`
    const width = io.stderr.columns ?? 100
    io.stderr.write(`\r\x1b[K${line.slice(0, width - 1)}`)
  }
  draw()
  const timer = setInterval(draw, PROGRESS_INTERVAL)
  return () => {
    clearInterval(timer)
    io.stderr.write('\r\x1b[K')
  }
}

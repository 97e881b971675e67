import { runCli } from './cli.js'
import { EXIT_FAILURE, PROCESS_UMASK, STOP_DEADLINE } from './constants.js'

/** Milliseconds the process may linger after the command ended before it is ended for good. */
const EXIT_GRACE = 1_000

/**
 * The process side of `dnt`: files are created private (umask 077), SIGINT /
 * SIGTERM ask the running command to stop cleanly (a second one exits at
 * once; a command still running `STOP_DEADLINE` ms after the first is ended
 * with exit 1), the exit code is set, and a handle left open by a library
 * cannot keep the process alive.
 */
export async function main(argv: string[]): Promise<void> {
  // what the process creates (stores, LevelDB's files, keys, JSONL) is its owner's only
  process.umask(PROCESS_UMASK)
  const controller = new AbortController()
  let deadline: ReturnType<typeof setTimeout> | undefined
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(130)
    controller.abort()
    deadline = setTimeout(() => {
      process.stderr.write(
        `dnt: did not stop within ${STOP_DEADLINE / 1000} s of the signal; exiting\n`
      )
      process.exit(EXIT_FAILURE)
    }, STOP_DEADLINE)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const code = await runCli(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    // created on first use only: an idle stdin stream is not worth a handle
    stdin: { [Symbol.asyncIterator]: () => process.stdin[Symbol.asyncIterator]() },
    signal: controller.signal
  })
  clearTimeout(deadline)
  process.exitCode = code
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
  setTimeout(() => process.exit(code), EXIT_GRACE).unref()
}

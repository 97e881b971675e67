/**
 * @packageDocumentation
 *
 * `dnt`, the command line of dntkit: keys, a receiver (`dnt listen`), a sender
 * that delivers now and queues the rest durably (`dnt send`, `dnt flush`),
 * and tools for the store (`inspect`, `stats`, `purge`, `dead`, `migrate`).
 * `dnt demo` tells the whole story on 127.0.0.1. The package also exports
 * `runCli`, to run a command line in-process.
 *
 * @example
 *
 * ```ts
 * import { installPromiseWithResolvers, runCli } from '@dntkit/cli'
 *
 * installPromiseWithResolvers() // Node 20: libp2p v3 needs it
 * const code = await runCli(['inspect', '--key', 'node.key', '--store', 'file:./outbox', '--json'], {
 *   stdout: process.stdout,
 *   stderr: process.stderr,
 *   env: process.env,
 *   signal: AbortSignal.timeout(60_000)
 * })
 * // code: 0 done, 1 failure, 2 usage or input error, 3 messages remain queued
 * ```
 */
export { runCli, version } from './cli.js'
export type { CliIo } from './command.js'
export { EXIT_FAILURE, EXIT_OK, EXIT_QUEUED, EXIT_USAGE } from './constants.js'
export { CommandFailedError, UsageError } from './errors.js'

import debug from 'weald'

/** A namespaced debug logger in the libp2p convention; enable with `DEBUG=dntkit:*`. */
export interface Logger {
  (formatter: string, ...args: unknown[]): void
  /** Logs a failure (printf-style `formatter`, as the debug module). */
  error(formatter: string, ...args: unknown[]): void
  /** Logs detail that is only of interest while debugging. */
  trace(formatter: string, ...args: unknown[]): void
  /** Whether the logger prints anything (skip building costly arguments when not). */
  enabled: boolean
}

/** Makes the logger of a component, e.g. `factory('dntkit:outbox')`. */
export type LoggerFactory = (name: string) => Logger

/**
 * The default factory: `weald` (the `debug` fork js-libp2p uses), silent
 * unless `DEBUG` enables the namespace. Errors log under `NAME:error`, details
 * under `NAME:trace`. Nothing logged by dntkit contains keys or payloads.
 */
export const defaultLogger: LoggerFactory = (name) =>
  Object.assign(debug(name), {
    error: debug(`${name}:error`),
    trace: debug(`${name}:trace`)
  }) as unknown as Logger

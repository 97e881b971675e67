import { DntError, describeError, InvalidKeyError } from '@dntkit/core'
import { EXIT_FAILURE, EXIT_USAGE } from './constants.js'

/**
 * Wrong usage or input: a bad flag, multiaddr, peer id, key file, JSON line,
 * store location. Exits 2; the message names what is wrong.
 */
export class UsageError extends DntError {
  static override readonly code = 'DNT_CLI_USAGE'
  override readonly name = 'UsageError'
}

/** A command could not do its work for a reason other than its input; exits 1. */
export class CommandFailedError extends DntError {
  static override readonly code = 'DNT_CLI_FAILED'
  override readonly name = 'CommandFailedError'
}

/** The exit code a thrown value maps to. */
export function exitCodeOf(error: unknown): number {
  if (UsageError.isInstance(error) || InvalidKeyError.isInstance(error)) return EXIT_USAGE
  return EXIT_FAILURE
}

/** One line for stderr: our own errors as their message, any other as `Name (CODE): message`. */
export function errorLine(error: unknown): string {
  const text =
    UsageError.isInstance(error) || CommandFailedError.isInstance(error)
      ? (error as Error).message
      : describeError(error)
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

/** Prefixes the message of a failure with where it happened, keeping its code and exit status. */
export function withContext(context: string, error: unknown): Error {
  if (UsageError.isInstance(error))
    return new UsageError(`${context}: ${error.message}`, { cause: error })
  if (InvalidKeyError.isInstance(error))
    return new UsageError(`${context}: ${error.message}`, { cause: error })
  return new CommandFailedError(`${context}: ${errorLine(error)}`, { cause: error })
}

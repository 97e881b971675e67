import { DntError } from '@dntkit/core'
import { MAX_CODE_BYTES } from './constants.js'

/**
 * Thrown by a receiving handler that cannot take the message now but will
 * later (a database is down, a queue is full): the sender gets a `try-later`
 * ack and retries, instead of a `rejected` ack that would end the message.
 */
export class TryLaterError extends DntError {
  static override readonly code = 'DNT_TRY_LATER'
  override readonly name = 'TryLaterError'
}

/** The default `reason` of a `MessageRefusedError`. */
export const REFUSED = 'refused'

/**
 * Thrown by a receiving envelope handler to refuse a message for good: the
 * sender gets a `rejected` ack with `reason` as its code and the error's
 * message as its reason, and never retries it (`DeliveryRejectedError` with
 * that `reason`; a queued message goes to the dead letters with it when its
 * level keeps them, a critical one included). The handler is not run again
 * for it, unless it is sent again after the sender gave it up.
 *
 * It is the only final refusal a handler can give: any other error it throws
 * is answered `try-later` (code `handler-error`) and retried, so that a bug or
 * an outage of the application does not lose a message. In raw mode no
 * answer travels: the stream is reset like for any other error.
 *
 * ```ts
 * throw new MessageRefusedError('order 17 has no items', { reason: 'invalid-order' })
 * ```
 */
export class MessageRefusedError extends DntError {
  static override readonly code = 'DNT_MESSAGE_REFUSED'
  override readonly name = 'MessageRefusedError'
  /** Machine-readable reason, sent as the ack's code (default `refused`; at most 64 bytes of UTF-8). */
  readonly reason: string

  constructor(message: string, options: { reason?: string; cause?: unknown } = {}) {
    super(message, options)
    const reason = options.reason ?? REFUSED
    if (
      typeof reason !== 'string' ||
      reason.length === 0 ||
      new TextEncoder().encode(reason).byteLength > MAX_CODE_BYTES
    ) {
      throw new TypeError(
        `MessageRefusedError: reason must be a non-empty string of at most ${MAX_CODE_BYTES} bytes, got ${JSON.stringify(reason)}`
      )
    }
    this.reason = reason
  }
}

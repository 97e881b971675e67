import { DntError } from '@dntkit/core'

/**
 * Thrown by a receiving handler that cannot take the message now but will
 * later (a database is down, a queue is full): the sender gets a `try-later`
 * ack and retries, instead of a `rejected` ack that would end the message.
 */
export class TryLaterError extends DntError {
  static override readonly code = 'DNT_TRY_LATER'
  override readonly name = 'TryLaterError'
}

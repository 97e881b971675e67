import {
  DeliveryRejectedError,
  type DntError,
  describeError,
  PeerUnreachableError
} from '@dntkit/core'

/** Names of libp2p errors that mean the peer will never accept this protocol. */
const UNSUPPORTED = new Set(['UnsupportedProtocolError', 'UnhandledProtocolError'])

/** What a failed delivery was about, for the error message. */
export interface DeliveryContext {
  peer: string
  protocol: string
  id: string
}

/**
 * Maps anything a libp2p dial or stream throws to the two errors the outbox
 * understands, keeping the original as `cause`:
 *
 * - unsupported protocol -> `DeliveryRejectedError` (reason `unsupported-protocol`; never retried)
 * - refused, reset, timeout, no valid addresses, dial aborted, closed
 *   connections, non-Error rejections, anything else -> `PeerUnreachableError`
 *
 * dntkit errors pass through unchanged.
 */
export function mapDeliveryError(error: unknown, context: DeliveryContext): DntError {
  if (PeerUnreachableError.isInstance(error) || DeliveryRejectedError.isInstance(error))
    return error
  const where = `message ${context.id} to ${context.peer} (${context.protocol})`
  const name = error instanceof Error ? error.name : undefined
  if (name != null && UNSUPPORTED.has(name)) {
    return new DeliveryRejectedError(
      `peer does not support the protocol: ${where}: ${describeError(error)}`,
      {
        cause: error,
        reason: 'unsupported-protocol'
      }
    )
  }
  return new PeerUnreachableError(`peer unreachable: ${where}: ${describeError(error)}`, {
    cause: error
  })
}

/** The error a delivery throws when its signal aborted. */
export function abortedError(signal: AbortSignal, context: DeliveryContext): PeerUnreachableError {
  return new PeerUnreachableError(
    `delivery aborted: message ${context.id} to ${context.peer} (${context.protocol}): ${describeError(signal.reason)}`,
    { cause: signal.reason }
  )
}

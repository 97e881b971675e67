import {
  DeliveryFailedError,
  DeliveryRejectedError,
  type DntError,
  describeError,
  PeerUnreachableError,
  UndeliverableError
} from '@dntkit/core'
import type { AckFrame } from './envelope-codec.js'

/**
 * Names of libp2p errors that mean the peer has no handler for the protocol:
 * not yet, maybe (a node registers its handlers after it started listening).
 */
const UNSUPPORTED = new Set(['UnsupportedProtocolError', 'UnhandledProtocolError'])

/** What a failed delivery was about, for the error message. */
export interface DeliveryContext {
  peer: string
  protocol: string
  id: string
  /** The addresses the message names (`Message.addrs`), if any. */
  addrs?: readonly string[] | undefined
}

/** The fields of a DOM `Event` (or a look-alike) that say what happened. */
interface EventLike {
  type: string
  target?: { url?: unknown; constructor?: { name?: unknown } } | null
  message?: unknown
  code?: unknown
  reason?: unknown
}

function isEventLike(value: unknown): value is EventLike {
  return (
    value != null &&
    typeof value === 'object' &&
    typeof (value as { type?: unknown }).type === 'string' &&
    ('isTrusted' in value || 'target' in value)
  )
}

/** One readable line for a DOM event, e.g. `WebSocket error event (ws://127.0.0.1:9001/)`. */
function describeEvent(event: EventLike): string {
  const target = event.target
  const source = typeof target?.constructor?.name === 'string' ? `${target.constructor.name} ` : ''
  const parts: string[] = []
  if (typeof target?.url === 'string') parts.push(target.url)
  if (typeof event.message === 'string' && event.message !== '') parts.push(event.message)
  if (typeof event.code === 'number') parts.push(`code ${event.code}`)
  if (typeof event.reason === 'string' && event.reason !== '') parts.push(event.reason)
  return `${source}${event.type} event${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`
}

/**
 * Anything thrown as an `Error`: errors stay as they are; a DOM `Event` (what
 * a browser WebSocket rejects with) becomes an `Error` whose message says
 * which event of which target (type, url); any other value is described.
 * The original is kept as `cause`.
 */
export function asError(value: unknown): Error {
  if (value instanceof Error) return value
  if (isEventLike(value)) {
    return new Error(`the transport failed with a ${describeEvent(value)}`, { cause: value })
  }
  return new Error(describeError(value), { cause: value })
}

/** The failure with the errors an `AggregateError` holds, each on its own. */
function describeAll(error: Error): string {
  const inner = (error as { errors?: unknown }).errors
  if (!Array.isArray(inner) || inner.length === 0) return describeError(error)
  const each = inner.map((one) => describeError(asError(one)))
  return `${describeError(error)} [${each.join('; ')}]`
}

function dialDenied(cause: Error, where: string): UndeliverableError {
  // libp2p names the gater hook that refused: denyDialPeer ("allowDialPeer") or denyDialMultiaddr
  const byPeer = /allowDialPeer|denyDialPeer/.test(cause.message)
  const advice = byPeer
    ? 'this peer is never dialled: the connection gater denies it; configure connectionGater.denyDialPeer'
    : "this address is never dialled: the connection gater denies it; configure connectionGater.denyDialMultiaddr (libp2p's default gater in browsers denies private and loopback addresses)"
  return new UndeliverableError(`${advice}: ${where}: ${describeError(cause)}`, {
    cause,
    reason: 'dial-denied'
  })
}

function noTransport(cause: Error, where: string, addrs: readonly string[]): UndeliverableError {
  const at = addrs.length > 0 ? addrs.join(', ') : 'its known addresses'
  return new UndeliverableError(
    `no transport of this node can dial the peer at ${at}: add one that can (e.g. webSockets() for /ws addresses) or give the message an address this node can dial: ${where}: ${describeError(cause)}`,
    { cause, reason: 'no-transport' }
  )
}

/** Whether `error` is one of the delivery errors the outbox acts on (they pass through unchanged). */
function isDeliveryError(error: unknown): error is DntError {
  return (
    PeerUnreachableError.isInstance(error) ||
    DeliveryFailedError.isInstance(error) ||
    DeliveryRejectedError.isInstance(error) ||
    UndeliverableError.isInstance(error)
  )
}

function describeTarget(context: DeliveryContext): string {
  return `message ${context.id} to ${context.peer} (${context.protocol})`
}

function unsupported(cause: Error, context: DeliveryContext): DeliveryFailedError {
  return new DeliveryFailedError(
    `the peer has no handler for the protocol (yet): ${describeTarget(context)}: ${describeError(cause)}`,
    { cause, reason: 'unsupported-protocol' }
  )
}

/**
 * Maps what a dial (finding or opening a connection to the peer) throws to
 * the errors the outbox understands, keeping the original (as an `Error`,
 * see `asError`) as `cause`:
 *
 * - unsupported protocol -> `DeliveryFailedError` (reason `unsupported-protocol`): the
 *   receiver may register its handler later, so it is retried like any failed message
 * - a dial the connection gater denies (`DialDeniedError`) -> `UndeliverableError`
 *   (reason `dial-denied`): it is denied again on every retry
 * - no transport for the address (`TransportUnavailableError`), or none of the
 *   message's addresses dialable by this node (`NoValidAddressesError` for a
 *   message with `addrs`) -> `UndeliverableError` (reason `no-transport`)
 * - refused, reset, timeout, no known address at all, dial aborted, closed
 *   connections, DOM events, anything else -> `PeerUnreachableError`
 *
 * dntkit errors pass through unchanged.
 */
export function mapDeliveryError(error: unknown, context: DeliveryContext): DntError {
  if (isDeliveryError(error)) return error
  const cause = asError(error)
  const name = cause.name
  if (UNSUPPORTED.has(name)) return unsupported(cause, context)
  if (name === 'DialDeniedError') return dialDenied(cause, describeTarget(context))
  const addrs = context.addrs ?? []
  if (
    name === 'TransportUnavailableError' ||
    (name === 'NoValidAddressesError' && addrs.length > 0)
  )
    return noTransport(cause, describeTarget(context), addrs)
  const unknownAddress =
    name === 'NoValidAddressesError'
      ? ' (no known address: give the message `addrs`, or let the peer connect)'
      : ''
  return new PeerUnreachableError(
    `peer unreachable${unknownAddress}: ${describeTarget(context)}: ${describeAll(cause)}`,
    { cause }
  )
}

/**
 * Maps what fails once a connection to the peer was made (opening the
 * protocol stream, writing to it, waiting for the answer): the peer was
 * reached, so only this message failed.
 *
 * - unsupported protocol -> `DeliveryFailedError` (reason `unsupported-protocol`)
 * - anything else (the stream or connection reset, aborted by the remote,
 *   closed before the answer) -> `DeliveryFailedError` (reason `reset`)
 *
 * dntkit errors pass through unchanged.
 */
export function mapStreamError(error: unknown, context: DeliveryContext): DntError {
  if (isDeliveryError(error)) return error
  const cause = asError(error)
  if (UNSUPPORTED.has(cause.name)) return unsupported(cause, context)
  return new DeliveryFailedError(
    `the stream broke before the message was confirmed: ${describeTarget(context)}: ${describeAll(cause)}`,
    { cause, reason: 'reset' }
  )
}

/** The error a delivery throws when its signal aborted. */
export function abortedError(signal: AbortSignal, context: DeliveryContext): PeerUnreachableError {
  return new PeerUnreachableError(
    `delivery aborted: message ${context.id} to ${context.peer} (${context.protocol}): ${describeError(asError(signal.reason))}`,
    { cause: signal.reason }
  )
}

/**
 * What an ack means for the message it answers: undefined for `ok` and
 * `duplicate` (delivered), else the error the outbox acts on:
 *
 * - `rejected` / `unknown-protocol` (no handler for the inner protocol, maybe not yet)
 *   -> `DeliveryFailedError` (reason `unsupported-protocol`): retried
 * - `try-later` (rate-limited, over-budget, stopping, a `TryLaterError`, ...)
 *   -> `DeliveryFailedError` (reason = the ack's code): retried after the backoff
 * - any other `rejected` (unauthorized, too-large, the handler refused it)
 *   -> `DeliveryRejectedError` (reason = the ack's code): final
 */
export function ackError(ack: AckFrame, context: DeliveryContext): DntError | undefined {
  if (ack.status === 'ok' || ack.status === 'duplicate') return undefined
  const why = `${ack.code ?? ack.status}${ack.reason ? `: ${ack.reason}` : ''}`
  if (ack.status === 'try-later') {
    return new DeliveryFailedError(
      `the receiver asked to retry ${describeTarget(context)} later: ${why}`,
      { reason: ack.code ?? 'try-later' }
    )
  }
  if (ack.code === 'unknown-protocol') {
    return new DeliveryFailedError(
      `the receiver has no handler for the protocol (yet): ${describeTarget(context)}: ${why}`,
      { reason: 'unsupported-protocol' }
    )
  }
  return new DeliveryRejectedError(`the receiver refused ${describeTarget(context)}: ${why}`, {
    reason: ack.code ?? 'rejected'
  })
}

import type { Meta } from '@dntkit/core'
import type { AckFrame } from './envelope-codec.js'
import type { StreamErrorReason } from './receiver-stats.js'

/** Which kind of stream a message came on: an envelope frame, or a raw stream of its own protocol. */
export type ReceiveMode = 'envelope' | 'raw'

/** A message as an envelope handler gets it. */
export interface EnvelopeMessage {
  /** The sender's message id (the outbox entry id). */
  id: string
  /** The inner protocol the sender addressed. */
  protocol: string
  payload: Uint8Array
  meta?: Meta
}

/**
 * What a handler returns: bytes are its reply to the sender (at most the
 * receiver's `maxReplyBytes`); anything else (`undefined`, or any other
 * value) means no reply.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler without a reply returns nothing
export type HandlerResult = Uint8Array | undefined | void

/**
 * Processes one message. Resolving acks it `ok`, with the returned bytes as
 * the reply (kept for the dedupe window: a duplicate gets the same reply and
 * the handler does not run again). Throwing `MessageRefusedError` acks it
 * `rejected` with its reason, final: the sender never retries it. Throwing
 * `TryLaterError` or any other error acks it `try-later` (code `try-later`,
 * or `handler-error`): the sender retries it after its backoff.
 */
export type EnvelopeHandler = (
  message: EnvelopeMessage,
  from: string
) => HandlerResult | Promise<HandlerResult>

/** A message as a raw handler gets it: the whole stream, read to its clean end. */
export interface RawMessage {
  /** The stream's protocol. */
  protocol: string
  payload: Uint8Array
}

/**
 * Processes one raw message. Resolving writes the returned bytes, if any,
 * back on the stream (the reply a dntkit sender in `remote-closed` mode
 * reads; at most the receiver's `maxReplyBytes`, else the stream is reset),
 * then closes the receiver's side cleanly (that sender's point of success);
 * throwing resets the stream (no reason travels in raw mode: a dntkit sender
 * retries it).
 */
export type RawHandler = (
  message: RawMessage,
  from: string
) => HandlerResult | Promise<HandlerResult>

/** Detail of the receiver's `message` and `duplicate` events. */
export interface ReceivedDetail {
  /** The message id (empty in raw mode, and when a frame was refused before its id was read). */
  id: string
  /** The sender's peer id, as noise authenticated it. */
  from: string
  /** The inner protocol (raw: the stream's protocol; empty when a frame was refused before it was read). */
  protocol: string
  mode: ReceiveMode
}

/** Detail of the receiver's `rejected` event (envelope mode; also used for `try-later` answers). */
export interface RejectedDetail extends ReceivedDetail {
  status: 'rejected' | 'try-later'
  code: string
  reason: string
}

/** Detail of the receiver's `stream-error` event. */
export interface StreamErrorDetail {
  from: string
  /** The stream's protocol: the envelope protocol, or a raw one. */
  protocol: string
  mode: ReceiveMode
  reason: StreamErrorReason
  error: Error
}

/** The receiver's events. */
export interface ReceiverEvents {
  /** A handler resolved: an envelope message was acked `ok`, or a raw stream closed cleanly. */
  message: CustomEvent<ReceivedDetail>
  /** A message id seen before was acked `duplicate` without calling the handler. */
  duplicate: CustomEvent<ReceivedDetail>
  /** An envelope message was answered `rejected` or `try-later` (unauthorized, rate-limited, too large, over budget, ...). */
  rejected: CustomEvent<RejectedDetail>
  /** A stream was cut off or refused: malformed frame, idle, limits or budget exceeded, unauthorized raw peer, reset. */
  'stream-error': CustomEvent<StreamErrorDetail>
  /** The dedupe store failed to record an id (the message was still acked `ok`). */
  'dedupe-error': CustomEvent<{ error: unknown }>
}

/** The outcome of one frame, before its sequence number is added. */
export type Answer = Omit<AckFrame, 'sequence'>

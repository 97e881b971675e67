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
 * Processes one message. Resolving acks it `ok`; throwing acks it `rejected`
 * (code: the error's string `code`, else `handler-error`) and the sender
 * never retries it, except for `TryLaterError`, which acks `try-later`.
 */
export type EnvelopeHandler = (message: EnvelopeMessage, from: string) => void | Promise<void>

/** A message as a raw handler gets it: the whole stream, read to its clean end. */
export interface RawMessage {
  /** The stream's protocol. */
  protocol: string
  payload: Uint8Array
}

/**
 * Processes one raw message. Resolving closes the receiver's side of the
 * stream cleanly (a dntkit sender's `remote-closed` point of success);
 * throwing resets the stream (no reason travels in raw mode: a dntkit sender
 * retries it).
 */
export type RawHandler = (message: RawMessage, from: string) => void | Promise<void>

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

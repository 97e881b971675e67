import {
  type Clock,
  defaultLogger,
  describeError,
  type Logger,
  type LoggerFactory,
  type Meta,
  systemClock
} from '@dntkit/core'
import { type Connection, type Stream, TypedEventEmitter } from '@libp2p/interface'
import {
  ENVELOPE_PROTOCOL,
  IDLE_TIMEOUT,
  MAX_ENVELOPE_STREAMS,
  MAX_HEADER_BYTES,
  MAX_MESSAGE_BYTES,
  RECEIVER_LOG
} from './constants.js'
import { type DedupeInit, DedupeWindow } from './dedupe-window.js'
import type { AckFrame, MessageFrame } from './envelope-codec.js'
import { InboundEnvelopeStream } from './inbound-stream.js'
import { TryLaterError } from './try-later-error.js'

/** A message as a receiving handler gets it. */
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

/** Options of `dntReceiver()` and `handleEnvelopes()`. Only `handlers` is required. */
export interface DntReceiverInit {
  /** Inner protocol id -> handler. */
  handlers: Record<string, EnvelopeHandler>
  /** Duplicate suppression window, or `false` to turn it off (default: in memory, 100,000 ids, one day). */
  dedupe?: DedupeInit | false
  /** Largest payload accepted (default 4 MiB); a larger one is rejected from its length prefix. */
  maxMessageBytes?: number
  /** ms without a complete frame after which a stream is cut off (default 20,000). */
  idleTimeout?: number
  /** Protocol id of envelope mode (default `/dntkit/envelope/1.0.0`). */
  protocol?: string
  /** Concurrent envelope streams per connection (default 32). */
  maxInboundStreams?: number
  /** Time source of the dedupe window (default: the wall clock). */
  clock?: Clock
  /** Logger factory (default: `defaultLogger`, namespace `dntkit:transport-libp2p:receiver`). */
  logger?: LoggerFactory
}

/** Detail of the receiver's `message` and `duplicate` events. */
export interface ReceivedDetail {
  id: string
  from: string
  protocol: string
}

/** Detail of the receiver's `rejected` event (also used for `try-later` answers). */
export interface RejectedDetail extends ReceivedDetail {
  status: 'rejected' | 'try-later'
  code: string
  reason: string
}

export interface ReceiverEvents {
  /** A handler resolved; the message was acked `ok`. */
  message: CustomEvent<ReceivedDetail>
  /** A message id seen before was acked `duplicate` without calling the handler. */
  duplicate: CustomEvent<ReceivedDetail>
  /** A message was answered `rejected` or `try-later`. */
  rejected: CustomEvent<RejectedDetail>
  /** A stream was cut off: malformed frame, idle timeout, limits exceeded, or reset. */
  'stream-error': CustomEvent<{ from: string; error: Error }>
  /** The dedupe store failed to record an id (the message was still acked `ok`). */
  'dedupe-error': CustomEvent<{ error: unknown }>
}

/** The outcome of one frame, before its sequence number is added. */
export type Answer = Omit<AckFrame, 'sequence'>

/** Shared by the service and `handleEnvelopes()`: handlers, dedupe, limits, open streams. */
export class EnvelopeReceiverCore extends TypedEventEmitter<ReceiverEvents> {
  readonly protocol: string
  readonly maxMessageBytes: number
  readonly maxHeaderBytes = MAX_HEADER_BYTES
  readonly idleTimeout: number
  readonly maxInboundStreams: number
  readonly log: Logger
  private readonly handlers: Map<string, EnvelopeHandler>
  private readonly dedupe: DedupeWindow | undefined
  private readonly inProgress = new Map<string, Promise<Answer>>()
  private readonly streams = new Set<InboundEnvelopeStream>()
  private stopping = false

  constructor(init: DntReceiverInit) {
    super()
    if (init == null || init.handlers == null || typeof init.handlers !== 'object') {
      throw new TypeError('handlers must be an object of inner protocol -> handler function')
    }
    this.handlers = new Map()
    for (const [protocol, handler] of Object.entries(init.handlers)) {
      if (typeof handler !== 'function')
        throw new TypeError(`handlers["${protocol}"] must be a function`)
      this.handlers.set(protocol, handler)
    }
    this.protocol = init.protocol ?? ENVELOPE_PROTOCOL
    this.maxMessageBytes = positive(init.maxMessageBytes, MAX_MESSAGE_BYTES, 'maxMessageBytes')
    this.idleTimeout = positive(init.idleTimeout, IDLE_TIMEOUT, 'idleTimeout')
    this.maxInboundStreams = positive(
      init.maxInboundStreams,
      MAX_ENVELOPE_STREAMS,
      'maxInboundStreams'
    )
    this.log = (init.logger ?? defaultLogger)(RECEIVER_LOG)
    if (init.dedupe !== false)
      this.dedupe = new DedupeWindow(init.dedupe ?? {}, init.clock ?? systemClock)
  }

  /** Envelope streams being served now. */
  get activeStreams(): number {
    return this.streams.size
  }

  async open(): Promise<void> {
    this.stopping = false
    await this.dedupe?.open()
  }

  /** The libp2p stream handler of the envelope protocol. */
  readonly handleStream = (stream: Stream, connection: Connection): void => {
    const inbound = new InboundEnvelopeStream(stream, connection.remotePeer.toString(), this)
    this.streams.add(inbound)
    inbound
      .run()
      .catch((error: unknown) =>
        this.log.error('envelope stream from %s failed: %s', inbound.from, describeError(error))
      )
      .finally(() => this.streams.delete(inbound))
  }

  /** Stops taking messages (new ones get `try-later`), lets running handlers finish, then closes every stream. */
  async close(): Promise<void> {
    this.stopping = true
    await Promise.allSettled([...this.inProgress.values()])
    await Promise.allSettled([...this.streams].map((stream) => stream.close()))
    await this.dedupe?.close()
  }

  /** Decides the answer to one frame, calling its handler at most once per id in the window. */
  async process(frame: MessageFrame, from: string): Promise<Answer> {
    const detail = { id: frame.id, from, protocol: frame.protocol }
    if (this.stopping)
      return this.refuse(detail, 'try-later', 'stopping', 'the receiver is stopping')
    const handler = this.handlers.get(frame.protocol)
    if (handler == null) {
      return this.refuse(detail, 'rejected', 'unknown-protocol', `no handler for ${frame.protocol}`)
    }
    if (this.dedupe == null) return this.run(handler, frame, from, undefined)
    const key = `${from}/${frame.id}`
    if (this.dedupe.has(key)) return this.duplicate(detail)
    const running = this.inProgress.get(key)
    if (running != null) {
      // the same id on another stream (a sender that restarted mid-delivery): share its outcome
      const answer = await running
      return answer.status === 'ok' ? this.duplicate(detail) : answer
    }
    const outcome = this.run(handler, frame, from, key)
    this.inProgress.set(key, outcome)
    try {
      return await outcome
    } finally {
      this.inProgress.delete(key)
    }
  }

  private async run(
    handler: EnvelopeHandler,
    frame: MessageFrame,
    from: string,
    key: string | undefined
  ): Promise<Answer> {
    const detail = { id: frame.id, from, protocol: frame.protocol }
    const message: EnvelopeMessage = {
      id: frame.id,
      protocol: frame.protocol,
      payload: frame.payload
    }
    if (frame.meta != null) message.meta = frame.meta
    try {
      await handler(message, from)
    } catch (error) {
      if (TryLaterError.isInstance(error)) {
        return this.refuse(detail, 'try-later', 'try-later', (error as Error).message)
      }
      const code = (error as { code?: unknown })?.code
      return this.refuse(
        detail,
        'rejected',
        typeof code === 'string' ? code : 'handler-error',
        describeError(error)
      )
    }
    if (key != null && this.dedupe != null) {
      try {
        await this.dedupe.add(key, { peer: from, protocol: frame.protocol })
      } catch (error) {
        this.log.error('could not record %s in the dedupe store: %s', key, describeError(error))
        this.safeDispatchEvent('dedupe-error', { detail: { error } })
      }
    }
    this.safeDispatchEvent('message', { detail })
    return { status: 'ok' }
  }

  private duplicate(detail: ReceivedDetail): Answer {
    this.safeDispatchEvent('duplicate', { detail })
    return { status: 'duplicate' }
  }

  private refuse(
    detail: ReceivedDetail,
    status: 'rejected' | 'try-later',
    code: string,
    reason: string
  ): Answer {
    this.log(
      '%s message %s from %s (%s): %s %s',
      status,
      detail.id,
      detail.from,
      detail.protocol,
      code,
      reason
    )
    this.safeDispatchEvent('rejected', { detail: { ...detail, status, code, reason } })
    return { status, code, reason }
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value == null) return fallback
  if (!Number.isSafeInteger(value) || value < 1)
    throw new TypeError(`${name} must be an integer >= 1, got ${value}`)
  return value
}

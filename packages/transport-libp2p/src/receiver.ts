import { describeError, type Logger, type Meta } from '@dntkit/core'
import { type Connection, type Stream, TypedEventEmitter } from '@libp2p/interface'
import { RATE_LIMIT_TRACKED_PEERS, RECEIVER_LOG } from './constants.js'
import { DedupeWindow } from './dedupe-window.js'
import type { AckFrame, MessageFrame } from './envelope-codec.js'
import { InboundEnvelopeStream } from './inbound-stream.js'
import type { MessageHeader } from './message-header.js'
import { PeerRateLimiter, type RateLimit } from './rate-limiter.js'
import {
  type DntReceiverInit,
  type ResolvedReceiverInit,
  resolveReceiverInit
} from './receiver-options.js'
import { ReceiverCounters, type ReceiverStats, type StreamErrorReason } from './receiver-stats.js'
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

/** Detail of the receiver's `message` and `duplicate` events. */
export interface ReceivedDetail {
  /** The message id (empty when the frame was refused before its id was read). */
  id: string
  /** The sender's peer id, as noise authenticated it. */
  from: string
  /** The inner protocol (empty when the frame was refused before it was read). */
  protocol: string
}

/** Detail of the receiver's `rejected` event (also used for `try-later` answers). */
export interface RejectedDetail extends ReceivedDetail {
  status: 'rejected' | 'try-later'
  code: string
  reason: string
}

/** Detail of the receiver's `stream-error` event. */
export interface StreamErrorDetail {
  from: string
  reason: StreamErrorReason
  error: Error
}

/** The events of `dntReceiver()` and `handleEnvelopes()` (`event.detail` is typed per name). */
export interface ReceiverEvents {
  /** A handler resolved; the message was acked `ok`. */
  message: CustomEvent<ReceivedDetail>
  /** A message id seen before was acked `duplicate` without calling the handler. */
  duplicate: CustomEvent<ReceivedDetail>
  /** A message was answered `rejected` or `try-later` (unauthorized, rate-limited, too large, ...). */
  rejected: CustomEvent<RejectedDetail>
  /** A stream was cut off or refused: malformed frame, idle, limits exceeded, reset. */
  'stream-error': CustomEvent<StreamErrorDetail>
  /** The dedupe store failed to record an id (the message was still acked `ok`). */
  'dedupe-error': CustomEvent<{ error: unknown }>
}

/** The outcome of one frame, before its sequence number is added. */
export type Answer = Omit<AckFrame, 'sequence'>

/** Shared by the service and `handleEnvelopes()`: authorization, limits, handlers, dedupe, open streams. */
export class EnvelopeReceiverCore extends TypedEventEmitter<ReceiverEvents> {
  readonly options: ResolvedReceiverInit
  readonly protocol: string
  readonly maxInboundStreams: number
  readonly log: Logger
  private readonly dedupe: DedupeWindow | undefined
  private readonly rateLimiter: PeerRateLimiter | undefined
  private readonly inProgress = new Map<string, Promise<Answer>>()
  private readonly streams = new Set<InboundEnvelopeStream>()
  private readonly streamsByPeer = new Map<string, number>()
  private readonly counters = new ReceiverCounters()
  private stopping = false

  constructor(init: DntReceiverInit) {
    super()
    this.options = resolveReceiverInit(init)
    this.protocol = this.options.protocol
    this.maxInboundStreams = this.options.maxInboundStreams
    this.log = this.options.logger(RECEIVER_LOG)
    if (this.options.dedupe !== false)
      this.dedupe = new DedupeWindow(this.options.dedupe, this.options.clock)
    if (this.options.rateLimit !== false) {
      this.rateLimiter = new PeerRateLimiter(
        this.options.rateLimit,
        this.options.clock,
        RATE_LIMIT_TRACKED_PEERS
      )
    }
  }

  /** Envelope streams being served now. */
  get activeStreams(): number {
    return this.streams.size
  }

  /** What the receiver counted: messages, refusals by code, streams cut off by reason, live sizes. */
  stats(): ReceiverStats {
    return this.counters.snapshot({
      activeStreams: this.streams.size,
      dedupeEntries: this.dedupe?.size ?? 0,
      rateLimitedPeers: this.rateLimiter?.size ?? 0
    })
  }

  async open(): Promise<void> {
    this.stopping = false
    await this.dedupe?.open()
  }

  /** The libp2p stream handler of the envelope protocol. */
  readonly handleStream = (stream: Stream, connection: Connection): void => {
    // the peer noise authenticated: the only identity authorization and limits trust
    const from = connection.remotePeer.toString()
    const open = this.streamsByPeer.get(from) ?? 0
    if (open >= this.options.maxStreamsPerPeer) {
      const error = new Error(
        `${from} already has ${open} envelope streams open (limit ${this.options.maxStreamsPerPeer})`
      )
      stream.abort(error)
      this.streamError(from, 'too-many-streams', error)
      return
    }
    this.streamsByPeer.set(from, open + 1)
    this.counters.streamsAccepted++
    const inbound = new InboundEnvelopeStream(stream, from, this)
    this.streams.add(inbound)
    inbound
      .run()
      .catch((error: unknown) =>
        this.log.error('envelope stream from %s failed: %s', from, describeError(error))
      )
      .finally(() => {
        this.streams.delete(inbound)
        const left = (this.streamsByPeer.get(from) ?? 1) - 1
        if (left > 0) this.streamsByPeer.set(from, left)
        else this.streamsByPeer.delete(from)
      })
  }

  /** Stops taking messages (new ones get `try-later`), lets running handlers finish, then closes every stream. */
  async close(): Promise<void> {
    this.stopping = true
    await Promise.allSettled([...this.inProgress.values()])
    await Promise.allSettled([...this.streams].map((stream) => stream.close()))
    await this.dedupe?.close()
  }

  /** Whether `from` may use envelope streams at all (the allowlist). */
  allows(from: string): boolean {
    return this.options.allow === undefined || this.options.allow.has(from)
  }

  /** The answer to a frame from a peer that is not on the allowlist. */
  refuseUnlisted(header: MessageHeader, from: string): Answer {
    const detail = { id: header.id, from, protocol: header.protocol }
    return this.refuse(detail, 'rejected', 'unauthorized', `peer ${from} is not on the allowlist`)
  }

  /**
   * Decides from a frame's header whether its payload is read: undefined
   * reads it; an answer refuses it (the payload is skipped). Checks, in
   * order: stopping, the peer's rate limit, a handler for the inner protocol,
   * the `authorize` hook (a promise when the hook is asynchronous).
   */
  admit(header: MessageHeader, from: string): Answer | undefined | Promise<Answer | undefined> {
    const detail = { id: header.id, from, protocol: header.protocol }
    if (this.stopping)
      return this.refuse(detail, 'try-later', 'stopping', 'the receiver is stopping')
    if (this.rateLimiter !== undefined && !this.rateLimiter.take(from)) {
      const { messagesPerSecond, burst } = this.options.rateLimit as RateLimit
      return this.refuse(
        detail,
        'try-later',
        'rate-limited',
        `${from} exceeds ${messagesPerSecond} messages/s (burst ${burst})`
      )
    }
    if (!this.options.handlers.has(header.protocol)) {
      return this.refuse(detail, 'rejected', 'unknown-protocol', 'no handler for this protocol')
    }
    const authorize = this.options.authorize
    if (authorize === undefined) return undefined
    const failed = (error: unknown): Answer =>
      this.refuse(
        detail,
        'try-later',
        'authorize-error',
        `authorize failed: ${describeError(error)}`
      )
    const verdict = (allowed: unknown): Answer | undefined =>
      allowed === true
        ? undefined
        : this.refuse(detail, 'rejected', 'unauthorized', `not authorized for ${header.protocol}`)
    let outcome: boolean | Promise<boolean>
    try {
      outcome = authorize(from, header.protocol, header.meta)
    } catch (error) {
      return failed(error)
    }
    if (outcome instanceof Promise) return outcome.then(verdict, failed)
    return verdict(outcome)
  }

  /** Answers a frame refused from its size alone (id and protocol may be unknown). */
  refuseFrame(from: string, code: string, reason: string): Answer {
    return this.refuse({ id: '', from, protocol: '' }, 'rejected', code, reason)
  }

  /** Decides the answer to one frame, calling its handler at most once per id in the window. */
  async process(frame: MessageFrame, from: string): Promise<Answer> {
    const detail = { id: frame.id, from, protocol: frame.protocol }
    if (this.stopping)
      return this.refuse(detail, 'try-later', 'stopping', 'the receiver is stopping')
    const handler = this.options.handlers.get(frame.protocol)
    if (handler == null) {
      return this.refuse(detail, 'rejected', 'unknown-protocol', 'no handler for this protocol')
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

  /** Counts and reports a stream cut off or refused. */
  streamError(from: string, reason: StreamErrorReason, error: Error): void {
    this.log('envelope stream from %s cut off (%s): %s', from, reason, error.message)
    this.counters.streamError(reason)
    this.safeDispatchEvent('stream-error', { detail: { from, reason, error } })
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
    this.counters.messages++
    this.safeDispatchEvent('message', { detail })
    return { status: 'ok' }
  }

  private duplicate(detail: ReceivedDetail): Answer {
    this.counters.duplicates++
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
    this.counters.answered(status, code)
    this.safeDispatchEvent('rejected', { detail: { ...detail, status, code, reason } })
    return { status, code, reason }
  }
}

export type { DntReceiverInit } from './receiver-options.js'

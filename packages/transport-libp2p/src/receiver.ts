import { describeError, type Logger } from '@dntkit/core'
import {
  type Connection,
  type Stream,
  type StreamHandler,
  TypedEventEmitter
} from '@libp2p/interface'
import { RATE_LIMIT_TRACKED_PEERS, RECEIVER_LOG } from './constants.js'
import { DedupeWindow } from './dedupe-window.js'
import { EnvelopeAnswers } from './envelope-answers.js'
import { InboundEnvelopeStream } from './inbound-stream.js'
import { MemoryBudget } from './memory-budget.js'
import { PeerSlots } from './peer-slots.js'
import { PeerRateLimiter } from './rate-limiter.js'
import { InboundRawStream } from './raw-stream.js'
import {
  type DntReceiverInit,
  type ResolvedReceiverInit,
  resolveReceiverInit
} from './receiver-options.js'
import { ReceiverCounters, type ReceiverStats, type StreamErrorReason } from './receiver-stats.js'
import type { ReceiveMode, ReceiverEvents } from './receiver-types.js'
import { settledWithin } from './settled-within.js'

/**
 * The receiving side, shared by the `dntReceiver()` service and
 * `handleMessages()`: authorization, limits and the memory budget of both
 * modes, the envelope and raw handler tables (both may change while it
 * runs), dedupe, the open streams, events and counters.
 */
export class ReceiverCore extends TypedEventEmitter<ReceiverEvents> {
  readonly options: ResolvedReceiverInit
  readonly log: Logger
  private readonly budget: MemoryBudget
  private readonly dedupe: DedupeWindow | undefined
  private readonly rateLimiter: PeerRateLimiter | undefined
  private readonly answers: EnvelopeAnswers
  private readonly counters = new ReceiverCounters()
  private readonly envelopeStreams = new Set<InboundEnvelopeStream>()
  private readonly rawStreams = new Set<InboundRawStream>()
  private readonly rawRuns = new Set<Promise<void>>()
  private readonly envelopeSlots: PeerSlots
  private readonly rawSlots: PeerSlots
  private stopping = false

  constructor(init: DntReceiverInit) {
    super()
    this.options = resolveReceiverInit(init)
    const options = this.options
    this.log = options.logger(RECEIVER_LOG)
    this.budget = new MemoryBudget({
      maxBytes: options.maxBufferedBytes,
      maxBytesPerPeer: options.maxBufferedBytesPerPeer
    })
    if (options.dedupe !== false) {
      this.dedupe = new DedupeWindow(options.dedupe, options.clock, (peer, evicted, cause) =>
        this.log(
          'dedupe window: forgot %d ids of %s before maxAge (%s); a retry of one of them would run its handler again',
          evicted,
          peer,
          cause === 'peer-quota' ? 'over its per-peer quota' : 'the window is full'
        )
      )
    }
    if (options.rateLimit !== false)
      this.rateLimiter = new PeerRateLimiter(
        options.rateLimit,
        options.clock,
        RATE_LIMIT_TRACKED_PEERS
      )
    this.answers = new EnvelopeAnswers({
      handlers: options.handlers,
      allow: options.allow,
      authorize: options.authorize,
      rateLimit: options.rateLimit,
      rateLimiter: this.rateLimiter,
      dedupe: this.dedupe,
      maxReplyBytes: options.maxReplyBytes,
      counters: this.counters,
      log: this.log,
      stopping: () => this.stopping,
      dispatch: (name, detail) => this.safeDispatchEvent(name, { detail } as never)
    })
    this.envelopeSlots = new PeerSlots(options.maxStreamsPerPeer)
    this.rawSlots = new PeerSlots(options.maxStreamsPerPeer)
  }

  /** The envelope protocol id. */
  get protocol(): string {
    return this.options.protocol
  }

  /** Envelope streams being served now. */
  get activeStreams(): number {
    return this.envelopeStreams.size
  }

  /** What the receiver counted: messages, refusals by code, streams cut off by reason, live sizes. */
  stats(): ReceiverStats {
    return this.counters.snapshot({
      ...this.budget.usage(),
      activeStreams: this.envelopeStreams.size,
      activeRawStreams: this.rawStreams.size,
      dedupeEntries: this.dedupe?.size ?? 0,
      dedupePeers: this.dedupe?.peerCount ?? 0,
      dedupeEvicted: this.dedupe?.evicted ?? 0,
      dedupeProtectedEvicted: this.dedupe?.protectedEvicted ?? 0,
      dedupeReplies: this.dedupe?.replies.count ?? 0,
      dedupeReplyBytes: this.dedupe?.replies.bytes ?? 0,
      dedupeRepliesDropped: this.dedupe?.replies.dropped ?? 0,
      rateLimitedPeers: this.rateLimiter?.size ?? 0
    })
  }

  async open(): Promise<void> {
    this.stopping = false
    await this.dedupe?.open()
  }

  /**
   * Stops taking messages (new envelope frames get `try-later`, raw streams
   * still being read are reset), lets running handlers finish and their
   * answers go out, then closes every stream and the dedupe store. Bounded:
   * after `stopTimeout` ms every stream still open is reset (a handler still
   * running finishes on its own, unanswered, so its sender retries).
   */
  async close(): Promise<void> {
    this.stopping = true
    for (const stream of this.rawStreams) stream.stop()
    const graceful = (async () => {
      await Promise.allSettled([this.answers.settled(), ...this.rawRuns])
      await Promise.allSettled([...this.envelopeStreams].map((stream) => stream.close()))
    })()
    const { clock, stopTimeout } = this.options
    if (!(await settledWithin(graceful, clock, stopTimeout))) {
      const busy = this.envelopeStreams.size + this.rawStreams.size
      this.log('stop: %d streams still busy after %d ms; resetting them', busy, stopTimeout)
      const error = new Error(`the receiver stopped: still busy after ${stopTimeout} ms`)
      for (const stream of this.envelopeStreams) stream.reset(error)
      for (const stream of this.rawStreams) stream.reset(error)
    }
    await this.dedupe?.close()
  }

  /** The libp2p stream handler of the envelope protocol. */
  readonly handleStream = (stream: Stream, connection: Connection): void => {
    // the peer noise authenticated: the only identity authorization and limits trust
    const from = connection.remotePeer.toString()
    const protocol = this.options.protocol
    if (!this.envelopeSlots.take(from)) {
      this.refuseStream(
        stream,
        from,
        protocol,
        'envelope',
        'too-many-streams',
        this.tooMany(from, 'envelope')
      )
      return
    }
    this.counters.streamsAccepted++
    const { clock, maxMessageBytes, maxHeaderBytes, maxIdBytes, idleTimeout } = this.options
    const { maxFramesInFlight, maxBytesInFlight, maxReplyBytes } = this.options
    const inbound = new InboundEnvelopeStream(stream, from, {
      limits: {
        maxMessageBytes,
        maxHeaderBytes,
        maxIdBytes,
        idleTimeout,
        maxFramesInFlight,
        maxBytesInFlight,
        maxReplyBytes
      },
      clock,
      answers: this.answers,
      account: this.budget.account(from),
      streamError: (reason, error) => this.streamError(from, protocol, 'envelope', reason, error)
    })
    this.envelopeStreams.add(inbound)
    inbound
      .run()
      .catch((error: unknown) =>
        this.log.error('envelope stream from %s failed: %s', from, describeError(error))
      )
      .finally(() => {
        this.envelopeStreams.delete(inbound)
        this.envelopeSlots.give(from)
      })
  }

  /** The libp2p stream handler of a raw protocol (its handler is looked up per stream). */
  rawStreamHandler(protocol: string): StreamHandler {
    return (stream, connection) => this.serveRaw(protocol, stream, connection)
  }

  /** Counts and reports a stream cut off or refused. */
  streamError(
    from: string,
    protocol: string,
    mode: ReceiveMode,
    reason: StreamErrorReason,
    error: Error
  ): void {
    this.log(
      '%s stream from %s on %s cut off (%s): %s',
      mode,
      from,
      protocol,
      reason,
      error.message
    )
    this.counters.streamError(reason, mode === 'raw')
    this.safeDispatchEvent('stream-error', { detail: { from, protocol, mode, reason, error } })
  }

  private async serveRaw(protocol: string, stream: Stream, connection: Connection): Promise<void> {
    const from = connection.remotePeer.toString()
    const handler = this.options.rawHandlers.get(protocol)
    const refuse = (reason: StreamErrorReason, error: Error): void =>
      this.refuseStream(stream, from, protocol, 'raw', reason, error)
    if (handler === undefined || this.stopping) {
      // removed meanwhile, or stopping: a reset, which a dntkit sender retries
      stream.abort(new Error(`no raw handler for ${protocol}`))
      return
    }
    const refusal = await this.authorizeRaw(from, protocol)
    if (refusal !== undefined) return refuse('unauthorized', refusal)
    if (this.rateLimiter !== undefined && !this.rateLimiter.take(from)) {
      const { messagesPerSecond, burst } = this.options.rateLimit as {
        messagesPerSecond: number
        burst: number
      }
      return refuse(
        'rate-limited',
        new Error(`${from} exceeds ${messagesPerSecond} messages/s (burst ${burst})`)
      )
    }
    if (!this.rawSlots.take(from)) return refuse('too-many-streams', this.tooMany(from, 'raw'))
    this.counters.rawStreamsAccepted++
    const { clock, maxMessageBytes, idleTimeout, maxReplyBytes } = this.options
    const inbound = new InboundRawStream(stream, connection, protocol, {
      limits: { maxMessageBytes, idleTimeout, maxReplyBytes },
      clock,
      account: this.budget.account(from),
      handler,
      handled: () => {
        this.counters.rawMessages++
        this.safeDispatchEvent('message', { detail: { id: '', from, protocol, mode: 'raw' } })
      },
      streamError: (reason, error) => this.streamError(from, protocol, 'raw', reason, error)
    })
    this.rawStreams.add(inbound)
    const running = inbound
      .run()
      .catch((error: unknown) =>
        this.log.error('raw stream from %s failed: %s', from, describeError(error))
      )
      .finally(() => {
        this.rawStreams.delete(inbound)
        this.rawRuns.delete(running)
        this.rawSlots.give(from)
      })
    this.rawRuns.add(running)
    await running
  }

  /** Why a raw stream of `from` is refused before any byte is read, or undefined when it is not. */
  private async authorizeRaw(from: string, protocol: string): Promise<Error | undefined> {
    const { allow, authorize } = this.options
    if (allow !== undefined && !allow.has(from))
      return new Error(`unauthorized: peer ${from} is not on the allowlist`)
    if (authorize === undefined) return undefined
    try {
      if ((await authorize(from, protocol, undefined)) === true) return undefined
      return new Error(`unauthorized: authorize refused ${from} on ${protocol}`)
    } catch (error) {
      return new Error(`unauthorized: authorize failed: ${describeError(error)}`)
    }
  }

  private tooMany(from: string, mode: ReceiveMode): Error {
    const slots = mode === 'raw' ? this.rawSlots : this.envelopeSlots
    return new Error(
      `${from} already has ${slots.of(from)} ${mode} streams open (limit ${slots.limit})`
    )
  }

  private refuseStream(
    stream: Stream,
    from: string,
    protocol: string,
    mode: ReceiveMode,
    reason: StreamErrorReason,
    error: Error
  ): void {
    stream.abort(error)
    this.streamError(from, protocol, mode, reason, error)
  }
}

export type { DntReceiverInit } from './receiver-options.js'

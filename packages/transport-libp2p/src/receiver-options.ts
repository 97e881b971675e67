import { type Clock, defaultLogger, type LoggerFactory, systemClock } from '@dntkit/core'
import { rejectUnknownOptions } from '@dntkit/core/plugin'
import {
  type AuthorizationInit,
  type AuthorizeHook,
  allowSet,
  authorizeHook
} from './authorization.js'
import {
  ENVELOPE_PROTOCOL,
  IDLE_TIMEOUT,
  MAX_BUFFERED_BYTES,
  MAX_BUFFERED_BYTES_PER_PEER,
  MAX_ENVELOPE_STREAMS,
  MAX_HEADER_BYTES,
  MAX_ID_BYTES,
  MAX_MESSAGE_BYTES,
  MAX_STREAMS_PER_PEER,
  RATE_LIMIT_BURST,
  RATE_LIMIT_MESSAGES_PER_SECOND,
  RECEIVER_MAX_BYTES_IN_FLIGHT,
  RECEIVER_MAX_FRAMES_IN_FLIGHT,
  RECEIVER_MAX_REPLY_BYTES,
  RECEIVER_STOP_TIMEOUT,
  WIRE_MAX_REPLY_BYTES
} from './constants.js'
import { checkDedupe } from './dedupe-options.js'
import type { DedupeInit } from './dedupe-window.js'
import type { RateLimit } from './rate-limiter.js'
import type { EnvelopeHandler, RawHandler } from './receiver-types.js'

/**
 * Options of `dntReceiver()`, `handleMessages()` and `handleEnvelopes()`.
 * The limits (`maxMessageBytes`, `idleTimeout`, `maxStreamsPerPeer`, the
 * memory budget, `allow` / `authorize`) hold in both modes.
 */
export interface DntReceiverInit extends AuthorizationInit {
  /**
   * Envelope mode: inner protocol id -> handler. The envelope protocol is
   * served when this is given, or when `rawHandlers` is not (more can be
   * added later with `handle()`).
   */
  handlers?: Record<string, EnvelopeHandler>
  /** Raw mode: protocol id -> handler of whole streams (more can be added later with `handleRaw()`). */
  rawHandlers?: Record<string, RawHandler>
  /** Duplicate suppression window, or `false` to turn it off (default: in memory, 100,000 ids, 10,000 per peer, one day). */
  dedupe?: DedupeInit | false
  /** Largest payload (envelope) or raw message accepted (default 4 MiB). */
  maxMessageBytes?: number
  /** Longest message id accepted, in UTF-8 bytes (default 256); bounds the dedupe window's memory. */
  maxIdBytes?: number
  /**
   * Largest reply a handler may return, in bytes (default 64 KiB, at most 8
   * MiB; 0: no handler may reply). Envelope: a larger one is answered
   * `rejected` / `reply-too-large` (final; the handler ran and its id is
   * remembered, so it is not run again for a duplicate); raw: the stream is
   * reset (its sender retries). Keep it at most the senders' `maxReplyBytes`
   * (default 1 MiB).
   */
  maxReplyBytes?: number
  /** ms without a complete frame (envelope) or without the stream's clean end (raw) after which a stream is cut off (default 20,000). */
  idleTimeout?: number
  /** Protocol id of envelope mode (default `/dntkit/envelope/1.0.0`). */
  protocol?: string
  /** Concurrent streams per connection and protocol, enforced by libp2p (default 32). */
  maxInboundStreams?: number
  /** Concurrent streams per remote peer over all its connections, envelope and raw counted apart (default 8); a new one over it is reset. */
  maxStreamsPerPeer?: number
  /** Unacknowledged frames held for one envelope stream (default 1024, the wire limit); over it the stream is reset. */
  maxFramesInFlight?: number
  /** Unacknowledged payload bytes held for one envelope stream, plus one frame (default 8 MiB, the wire limit). */
  maxBytesInFlight?: number
  /** Bytes buffered at once over all peers and both modes (default 64 MiB); what would pass it is refused, not buffered. */
  maxBufferedBytes?: number
  /** Bytes one peer may have buffered at once over all its streams (default 16 MiB); at least one frame must fit. */
  maxBufferedBytesPerPeer?: number
  /**
   * Per-peer token bucket over both modes (default 1,000 messages/s, burst
   * 50,000); an envelope message over it is answered `try-later` /
   * `rate-limited` from its header, a raw stream is reset. `false` turns it off.
   */
  rateLimit?: Partial<RateLimit> | false
  /**
   * ms a stop lets running handlers finish and their answers go out (default
   * 5,000); then every stream still open is reset and the stop completes. A
   * handler still running is left to finish on its own, unanswered.
   */
  stopTimeout?: number
  /** Time source of the dedupe window, the rate limit, the idle timeouts and `stopTimeout` (default: the wall clock). */
  clock?: Clock
  /** Logger factory (default: `defaultLogger`, namespace `dntkit:transport-libp2p:receiver`). */
  logger?: LoggerFactory
}

/** Every option of a receiver, checked and with its default. */
export interface ResolvedReceiverInit {
  handlers: Map<string, EnvelopeHandler>
  rawHandlers: Map<string, RawHandler>
  /** Whether the envelope protocol is served from the start. */
  serveEnvelopes: boolean
  dedupe: DedupeInit | false
  protocol: string
  maxMessageBytes: number
  maxHeaderBytes: number
  maxIdBytes: number
  maxReplyBytes: number
  idleTimeout: number
  maxInboundStreams: number
  maxStreamsPerPeer: number
  maxFramesInFlight: number
  maxBytesInFlight: number
  maxBufferedBytes: number
  maxBufferedBytesPerPeer: number
  rateLimit: RateLimit | false
  stopTimeout: number
  allow: Set<string> | undefined
  authorize: AuthorizeHook | undefined
  clock: Clock
  logger: LoggerFactory
}

const RATE_LIMIT_OPTIONS: ReadonlyArray<keyof RateLimit> = ['messagesPerSecond', 'burst']
const KNOWN_OPTIONS = new Set([
  'handlers',
  'rawHandlers',
  'dedupe',
  'maxMessageBytes',
  'maxIdBytes',
  'maxReplyBytes',
  'idleTimeout',
  'protocol',
  'maxInboundStreams',
  'maxStreamsPerPeer',
  'maxFramesInFlight',
  'maxBytesInFlight',
  'maxBufferedBytes',
  'maxBufferedBytesPerPeer',
  'rateLimit',
  'stopTimeout',
  'allow',
  'authorize',
  'clock',
  'logger'
])

function positive(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || (value as number) < 1)
    throw new TypeError(`${name} must be an integer >= 1, got ${String(value)}`)
  return value as number
}

function replyLimit(value: unknown): number {
  if (value === undefined) return RECEIVER_MAX_REPLY_BYTES
  if (
    !Number.isSafeInteger(value) ||
    (value as number) < 0 ||
    (value as number) > WIRE_MAX_REPLY_BYTES
  )
    throw new TypeError(
      `maxReplyBytes must be an integer from 0 to ${WIRE_MAX_REPLY_BYTES}, got ${String(value)}`
    )
  return value as number
}

function rateLimitOf(value: DntReceiverInit['rateLimit']): RateLimit | false {
  if (value === false) return false
  if (value !== undefined && (value === null || typeof value !== 'object')) {
    throw new TypeError('rateLimit must be { messagesPerSecond?, burst? } or false')
  }
  if (value !== undefined)
    rejectUnknownOptions(value, RATE_LIMIT_OPTIONS, 'receiver option rateLimit')
  const messagesPerSecond = value?.messagesPerSecond ?? RATE_LIMIT_MESSAGES_PER_SECOND
  if (typeof messagesPerSecond !== 'number' || !(messagesPerSecond > 0)) {
    throw new TypeError(
      `rateLimit.messagesPerSecond must be a number > 0, got ${messagesPerSecond}`
    )
  }
  return {
    messagesPerSecond,
    burst: positive(value?.burst, RATE_LIMIT_BURST, 'rateLimit.burst')
  }
}

function handlerMap<T>(table: Record<string, T> | undefined, name: string): Map<string, T> {
  const map = new Map<string, T>()
  if (table === undefined) return map
  if (table === null || typeof table !== 'object')
    throw new TypeError(`${name} must be an object of protocol -> handler function`)
  for (const [protocol, handler] of Object.entries(table)) {
    if (typeof handler !== 'function')
      throw new TypeError(`${name}["${protocol}"] must be a function`)
    map.set(protocol, handler)
  }
  return map
}

/** The memory budget's limits, checked against each other and against one frame. */
function budgetOf(init: DntReceiverInit, maxFrameBytes: number) {
  const maxBufferedBytes = positive(init.maxBufferedBytes, MAX_BUFFERED_BYTES, 'maxBufferedBytes')
  const maxBufferedBytesPerPeer = positive(
    init.maxBufferedBytesPerPeer,
    Math.min(MAX_BUFFERED_BYTES_PER_PEER, maxBufferedBytes),
    'maxBufferedBytesPerPeer'
  )
  if (maxBufferedBytesPerPeer > maxBufferedBytes) {
    throw new TypeError(
      `maxBufferedBytesPerPeer (${maxBufferedBytesPerPeer}) must not exceed maxBufferedBytes (${maxBufferedBytes})`
    )
  }
  if (maxBufferedBytesPerPeer < maxFrameBytes) {
    // a message of the largest size would be refused for ever
    throw new TypeError(
      `maxBufferedBytesPerPeer (${maxBufferedBytesPerPeer}) must hold one frame: maxMessageBytes + ${MAX_HEADER_BYTES} = ${maxFrameBytes}`
    )
  }
  return { maxBufferedBytes, maxBufferedBytesPerPeer }
}

/** Fills in defaults; throws `TypeError` naming the first option that is wrong. */
export function resolveReceiverInit(init: DntReceiverInit): ResolvedReceiverInit {
  if (init == null || typeof init !== 'object')
    throw new TypeError('receiver options must be an object')
  for (const key of Object.keys(init)) {
    if (!KNOWN_OPTIONS.has(key)) throw new TypeError(`unknown receiver option "${key}"`)
  }
  const maxMessageBytes = positive(init.maxMessageBytes, MAX_MESSAGE_BYTES, 'maxMessageBytes')
  const maxIdBytes = positive(init.maxIdBytes, MAX_ID_BYTES, 'maxIdBytes')
  if (init.dedupe !== undefined && init.dedupe !== false) {
    if (init.dedupe === null || typeof init.dedupe !== 'object')
      throw new TypeError(
        'dedupe must be { maxEntries?, maxEntriesPerPeer?, maxBytesPerPeer?, maxBytes?, maxAge?, minAge?, protectedPerPeer?, store? } or false'
      )
    checkDedupe(init.dedupe, maxIdBytes)
  }
  return {
    handlers: handlerMap(init.handlers, 'handlers'),
    rawHandlers: handlerMap(init.rawHandlers, 'rawHandlers'),
    serveEnvelopes: init.handlers !== undefined || init.rawHandlers === undefined,
    dedupe: init.dedupe ?? {},
    protocol: init.protocol ?? ENVELOPE_PROTOCOL,
    maxMessageBytes,
    maxHeaderBytes: MAX_HEADER_BYTES,
    maxIdBytes,
    maxReplyBytes: replyLimit(init.maxReplyBytes),
    idleTimeout: positive(init.idleTimeout, IDLE_TIMEOUT, 'idleTimeout'),
    maxInboundStreams: positive(init.maxInboundStreams, MAX_ENVELOPE_STREAMS, 'maxInboundStreams'),
    maxStreamsPerPeer: positive(init.maxStreamsPerPeer, MAX_STREAMS_PER_PEER, 'maxStreamsPerPeer'),
    maxFramesInFlight: positive(
      init.maxFramesInFlight,
      RECEIVER_MAX_FRAMES_IN_FLIGHT,
      'maxFramesInFlight'
    ),
    maxBytesInFlight: positive(
      init.maxBytesInFlight,
      RECEIVER_MAX_BYTES_IN_FLIGHT,
      'maxBytesInFlight'
    ),
    ...budgetOf(init, maxMessageBytes + MAX_HEADER_BYTES),
    rateLimit: rateLimitOf(init.rateLimit),
    stopTimeout: positive(init.stopTimeout, RECEIVER_STOP_TIMEOUT, 'stopTimeout'),
    allow: allowSet(init.allow),
    authorize: authorizeHook(init.authorize),
    clock: init.clock ?? systemClock,
    logger: init.logger ?? defaultLogger
  }
}

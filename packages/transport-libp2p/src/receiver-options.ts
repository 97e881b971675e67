import { type Clock, defaultLogger, type LoggerFactory, systemClock } from '@dntkit/core'
import {
  type AuthorizationInit,
  type AuthorizeHook,
  allowSet,
  authorizeHook
} from './authorization.js'
import {
  ENVELOPE_PROTOCOL,
  IDLE_TIMEOUT,
  MAX_ENVELOPE_STREAMS,
  MAX_HEADER_BYTES,
  MAX_ID_BYTES,
  MAX_MESSAGE_BYTES,
  MAX_STREAMS_PER_PEER,
  RATE_LIMIT_BURST,
  RATE_LIMIT_MESSAGES_PER_SECOND,
  RECEIVER_MAX_BYTES_IN_FLIGHT,
  RECEIVER_MAX_FRAMES_IN_FLIGHT
} from './constants.js'
import type { DedupeInit } from './dedupe-window.js'
import type { RateLimit } from './rate-limiter.js'
import type { EnvelopeHandler } from './receiver.js'

/** Options of `dntReceiver()` and `handleEnvelopes()`. Only `handlers` is required. */
export interface DntReceiverInit extends AuthorizationInit {
  /** Inner protocol id -> handler. */
  handlers: Record<string, EnvelopeHandler>
  /** Duplicate suppression window, or `false` to turn it off (default: in memory, 100,000 ids, one day). */
  dedupe?: DedupeInit | false
  /** Largest payload accepted (default 4 MiB); a larger one is refused from its header, its body skipped. */
  maxMessageBytes?: number
  /** Longest message id accepted, in UTF-8 bytes (default 256); bounds the dedupe window's memory. */
  maxIdBytes?: number
  /** ms without a complete frame after which a stream is cut off (default 20,000). */
  idleTimeout?: number
  /** Protocol id of envelope mode (default `/dntkit/envelope/1.0.0`). */
  protocol?: string
  /** Concurrent envelope streams per connection, enforced by libp2p (default 32). */
  maxInboundStreams?: number
  /** Concurrent envelope streams per remote peer over all its connections (default 8); a new one over it is reset. */
  maxStreamsPerPeer?: number
  /** Unacknowledged frames held for one stream (default 1024, the wire limit); over it the stream is reset. */
  maxFramesInFlight?: number
  /** Unacknowledged payload bytes held for one stream, plus one frame (default 8 MiB, the wire limit). */
  maxBytesInFlight?: number
  /**
   * Per-peer token bucket (default 10,000 messages/s, burst 100,000); a message
   * over it is answered `try-later` / `rate-limited` from its header. `false`
   * turns it off.
   */
  rateLimit?: Partial<RateLimit> | false
  /** Time source of the dedupe window and the rate limit (default: the wall clock). */
  clock?: Clock
  /** Logger factory (default: `defaultLogger`, namespace `dntkit:transport-libp2p:receiver`). */
  logger?: LoggerFactory
}

/** Every option of a receiver, checked and with its default. */
export interface ResolvedReceiverInit {
  handlers: Map<string, EnvelopeHandler>
  dedupe: DedupeInit | false
  protocol: string
  maxMessageBytes: number
  maxHeaderBytes: number
  maxIdBytes: number
  idleTimeout: number
  maxInboundStreams: number
  maxStreamsPerPeer: number
  maxFramesInFlight: number
  maxBytesInFlight: number
  rateLimit: RateLimit | false
  allow: Set<string> | undefined
  authorize: AuthorizeHook | undefined
  clock: Clock
  logger: LoggerFactory
}

function positive(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || (value as number) < 1)
    throw new TypeError(`${name} must be an integer >= 1, got ${String(value)}`)
  return value as number
}

function rateLimitOf(value: DntReceiverInit['rateLimit']): RateLimit | false {
  if (value === false) return false
  if (value !== undefined && (value === null || typeof value !== 'object')) {
    throw new TypeError('rateLimit must be { messagesPerSecond?, burst? } or false')
  }
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

/** Fills in defaults; throws `TypeError` naming the first option that is wrong. */
export function resolveReceiverInit(init: DntReceiverInit): ResolvedReceiverInit {
  if (init == null || init.handlers == null || typeof init.handlers !== 'object') {
    throw new TypeError('handlers must be an object of inner protocol -> handler function')
  }
  const handlers = new Map<string, EnvelopeHandler>()
  for (const [protocol, handler] of Object.entries(init.handlers)) {
    if (typeof handler !== 'function')
      throw new TypeError(`handlers["${protocol}"] must be a function`)
    handlers.set(protocol, handler)
  }
  return {
    handlers,
    dedupe: init.dedupe ?? {},
    protocol: init.protocol ?? ENVELOPE_PROTOCOL,
    maxMessageBytes: positive(init.maxMessageBytes, MAX_MESSAGE_BYTES, 'maxMessageBytes'),
    maxHeaderBytes: MAX_HEADER_BYTES,
    maxIdBytes: positive(init.maxIdBytes, MAX_ID_BYTES, 'maxIdBytes'),
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
    rateLimit: rateLimitOf(init.rateLimit),
    allow: allowSet(init.allow),
    authorize: authorizeHook(init.authorize),
    clock: init.clock ?? systemClock,
    logger: init.logger ?? defaultLogger
  }
}

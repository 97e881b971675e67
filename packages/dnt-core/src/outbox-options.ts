import type { Clock } from './clock.js'
import { systemClock } from './clock.js'
import { defaultLogger, type LoggerFactory } from './logger.js'
import { memoryStore } from './memory-store.js'
import { checkOptions, rejectUnknownOptions } from './option-names.js'
import { defaultPreset, type Policy, validatePolicy } from './policy.js'
import type { Store, Transport } from './types.js'

/** Capacity limits; every one is optional (no limit). */
export interface OutboxLimits {
  /** Queued entries in total. */
  maxEntries?: number
  /** Payload bytes queued in total. */
  maxBytes?: number
  /** Queued entries for one peer. */
  maxEntriesPerPeer?: number
  /** Payload bytes queued for one peer. */
  maxBytesPerPeer?: number
  /** Largest payload accepted by `send()` (default 4 MiB, the receiver's default too). */
  maxPayloadBytes?: number
  /**
   * Delivered ids remembered (with a fingerprint of their message) so that
   * sending one again answers `delivered` instead of delivering it twice
   * (default 10,000; 0 remembers none). Memory only.
   */
  rememberDelivered?: number
}

/** Options of `new Outbox(init)`; only `transport` is required. */
export interface OutboxInit {
  transport: Transport
  /** Where persisted levels are kept (default: `memoryStore()`, which survives nothing). */
  store?: Store
  /** Default: `defaultPreset()`. */
  policy?: Policy
  clock?: Clock
  /** Source of jitter, in [0, 1). */
  random?: () => number
  logger?: LoggerFactory
  /** Peers delivered to at the same time (default 32). */
  concurrency?: number
  /**
   * Deliveries in flight to one peer at the same time (default 1: strict FIFO).
   * A transport that pipelines (envelope mode) drains a backlog faster with more.
   * Whatever the value, a peer that failed is probed with one delivery first.
   */
  perPeerConcurrency?: number
  /** Milliseconds one delivery may take before it is aborted and counted as failed (default 30 s). */
  attemptTimeout?: number
  /**
   * Milliseconds `stop()` waits for in-flight deliveries before aborting them,
   * and again for pending store writes before giving up on them (default 5 s each).
   */
  stopTimeout?: number
  limits?: OutboxLimits
  /**
   * Start without delivering: the store is loaded and `entries()`, `stats()`,
   * `purge()`, `requeue()` and `send()` work, but nothing is attempted until
   * `resume()` (tools that inspect or edit a queue use this).
   */
  paused?: boolean
}

export const DEFAULT_CONCURRENCY = 32
export const DEFAULT_PER_PEER_CONCURRENCY = 1
export const DEFAULT_ATTEMPT_TIMEOUT = 30_000
export const DEFAULT_STOP_TIMEOUT = 5_000
export const DEFAULT_MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
export const DEFAULT_REMEMBER_DELIVERED = 10_000

export interface ResolvedOutboxInit {
  transport: Transport
  store: Store
  policy: Policy
  clock: Clock
  random: () => number
  logger: LoggerFactory
  concurrency: number
  perPeerConcurrency: number
  attemptTimeout: number
  stopTimeout: number
  limits: Required<OutboxLimits>
  paused: boolean
}

const INIT_FIELDS = new Set([
  'transport',
  'store',
  'policy',
  'clock',
  'random',
  'logger',
  'concurrency',
  'perPeerConcurrency',
  'attemptTimeout',
  'stopTimeout',
  'limits',
  'paused'
])
const LIMIT_FIELDS = new Set([
  'maxEntries',
  'maxBytes',
  'maxEntriesPerPeer',
  'maxBytesPerPeer',
  'maxPayloadBytes',
  'rememberDelivered'
])

function positive(
  value: number | undefined,
  fallback: number,
  name: string,
  integer = false
): number {
  if (value === undefined) return fallback
  const valid =
    typeof value === 'number' &&
    value > 0 &&
    (integer ? Number.isInteger(value) : !Number.isNaN(value))
  if (!valid) throw new TypeError(`${name} must be ${integer ? 'an integer' : 'a number'} > 0`)
  return value
}

/** Fills in defaults and throws `TypeError` naming the first option that is wrong. */
export function resolveOutboxInit(init: OutboxInit): ResolvedOutboxInit {
  if (init == null || typeof init !== 'object')
    throw new TypeError('Outbox options must be an object')
  rejectUnknownOptions(init, INIT_FIELDS, 'Outbox options')
  const transport = init.transport
  if (transport == null || typeof transport.deliver !== 'function') {
    throw new TypeError('transport must have a deliver(entry, options) method')
  }
  const store = init.store ?? memoryStore()
  for (const method of ['open', 'apply', 'close'] as const) {
    if (typeof store[method] !== 'function')
      throw new TypeError(`store must have a ${method}() method`)
  }
  const policy = init.policy ?? defaultPreset()
  validatePolicy(policy)
  const limits = checkOptions(init.limits, LIMIT_FIELDS, 'Outbox options.limits')
  const remember = limits.rememberDelivered ?? DEFAULT_REMEMBER_DELIVERED
  if (!Number.isInteger(remember) || remember < 0) {
    throw new TypeError('limits.rememberDelivered must be an integer >= 0')
  }
  return {
    transport,
    store,
    policy,
    clock: init.clock ?? systemClock,
    random: init.random ?? Math.random,
    logger: init.logger ?? defaultLogger,
    concurrency: positive(init.concurrency, DEFAULT_CONCURRENCY, 'concurrency', true),
    perPeerConcurrency: positive(
      init.perPeerConcurrency,
      DEFAULT_PER_PEER_CONCURRENCY,
      'perPeerConcurrency',
      true
    ),
    attemptTimeout: positive(init.attemptTimeout, DEFAULT_ATTEMPT_TIMEOUT, 'attemptTimeout'),
    stopTimeout: positive(init.stopTimeout, DEFAULT_STOP_TIMEOUT, 'stopTimeout'),
    paused: init.paused === true,
    limits: {
      maxEntries: positive(limits.maxEntries, Infinity, 'limits.maxEntries'),
      maxBytes: positive(limits.maxBytes, Infinity, 'limits.maxBytes'),
      maxEntriesPerPeer: positive(limits.maxEntriesPerPeer, Infinity, 'limits.maxEntriesPerPeer'),
      maxBytesPerPeer: positive(limits.maxBytesPerPeer, Infinity, 'limits.maxBytesPerPeer'),
      maxPayloadBytes: positive(
        limits.maxPayloadBytes,
        DEFAULT_MAX_PAYLOAD_BYTES,
        'limits.maxPayloadBytes'
      ),
      rememberDelivered: remember
    }
  }
}

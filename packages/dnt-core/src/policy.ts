import { type Backoff, validateBackoff } from './backoff.js'
import { checkOptions } from './option-names.js'

/** How the entries of one level are kept and retried. */
export interface Level {
  /** Kept in the store, so they survive a restart. */
  persist: boolean
  /**
   * Retries allowed after the first attempt (`Infinity`: until delivered).
   * The Go original's moderate level is 3: first try + 3 retries.
   */
  maxRetries: number
  /** Milliseconds after `createdAt` when an undelivered entry expires (`Infinity`: never). */
  ttl: number
  /** Wait between attempts, per peer. */
  backoff: Backoff
  /** What becomes of an entry that ran out of retries or time. */
  onExhausted: 'drop' | 'dead-letter'
}

/** Which level each protocol's messages get, and how each level behaves. */
export interface Policy {
  levels: Record<string, Level>
  /** protocol id -> level name (`'none'` for never cached). */
  protocols: Record<string, string>
  /** Level of protocols missing from `protocols` (`'none'` allowed). */
  fallback: string
  /** Reset a peer's backoff and flush its queue as soon as the transport reports it reachable. */
  flushOnReachable: boolean
}

/** A policy where any field may be left out; see `definePolicy`. */
export interface PolicyInit {
  levels?: Record<string, Partial<Level>>
  protocols?: Record<string, string>
  fallback?: string
  flushOnReachable?: boolean
}

/** The level name that means "one attempt, errors go to the caller, nothing is kept". */
export const NONE = 'none'

const SECOND = 1000
const MINUTE = 60 * SECOND

/**
 * The default for new applications: `critical` (persisted, retried until
 * delivered), `moderate` (memory only, 3 retries), exponential backoff with
 * full jitter from 1 s doubling to 5 min, a flush as soon as a peer connects,
 * and unmapped protocols treated as `critical`.
 */
export function defaultPreset(init: { protocols?: Record<string, string> } = {}): Policy {
  checkOptions(init, ['protocols'], 'defaultPreset()')
  const backoff: Backoff = {
    type: 'exponential',
    initial: SECOND,
    max: 5 * MINUTE,
    factor: 2,
    jitter: 'full'
  }
  return {
    levels: {
      critical: {
        persist: true,
        maxRetries: Infinity,
        ttl: Infinity,
        backoff,
        onExhausted: 'dead-letter'
      },
      moderate: { persist: false, maxRetries: 3, ttl: Infinity, backoff, onExhausted: 'drop' }
    },
    protocols: { ...init.protocols },
    fallback: 'critical',
    flushOnReachable: true
  }
}

/**
 * The Go original (oc-discovery `dnt_cache.go`), reproduced: `critical`
 * retried forever and persisted, `moderate` tried once plus 3 retries in memory
 * then abandoned, a fixed 15 s interval, no reaction to reconnects, and
 * protocols that are not listed (pubsub, search) never cached.
 *
 * The Go original retries a critical message whatever the error. Here too:
 * an unreachable peer, a reset stream or a protocol the receiver has not
 * registered yet are retried forever. Only what retrying can never fix (the
 * receiving application refused the message, or the dial is denied as
 * configured) ends the retries, and then the message is kept as a dead letter
 * (`dnt dead` lists it, `requeue` sends it again), never dropped.
 */
export function ocDiscoveryPreset(init: { critical?: string[]; moderate?: string[] } = {}): Policy {
  checkOptions(init, ['critical', 'moderate'], 'ocDiscoveryPreset()')
  const backoff: Backoff = { type: 'fixed', interval: 15 * SECOND }
  const protocols: Record<string, string> = {}
  for (const protocol of init.critical ?? []) protocols[protocol] = 'critical'
  for (const protocol of init.moderate ?? []) protocols[protocol] = 'moderate'
  return {
    levels: {
      critical: {
        persist: true,
        maxRetries: Infinity,
        ttl: Infinity,
        backoff,
        onExhausted: 'dead-letter'
      },
      moderate: { persist: false, maxRetries: 3, ttl: Infinity, backoff, onExhausted: 'drop' }
    },
    protocols,
    fallback: NONE,
    flushOnReachable: false
  }
}

const LEVEL_DEFAULTS: Level = {
  persist: false,
  maxRetries: 3,
  ttl: Infinity,
  backoff: { type: 'exponential', initial: SECOND, max: 5 * MINUTE, factor: 2, jitter: 'full' },
  onExhausted: 'drop'
}

/**
 * Builds a complete policy on top of `base` (default: `defaultPreset()`):
 * levels given by name are merged field by field over the base's level of that
 * name (or over a memory-only, 3-retry level), protocols are added, and the
 * result is validated. Also accepts parsed JSON, where `null` stands for
 * `Infinity` in `maxRetries` and `ttl`.
 */
export function definePolicy(init: PolicyInit = {}, base: Policy = defaultPreset()): Policy {
  if (init == null || typeof init !== 'object') throw new TypeError('policy must be an object')
  rejectUnknown(init, POLICY_FIELDS, 'policy')
  const levels: Record<string, Level> = { ...base.levels }
  for (const [name, partial] of Object.entries(init.levels ?? {})) {
    const merged = { ...(levels[name] ?? LEVEL_DEFAULTS), ...withInfinity(partial) }
    levels[name] = merged
  }
  const policy: Policy = {
    levels,
    protocols: { ...base.protocols, ...init.protocols },
    fallback: init.fallback ?? base.fallback,
    flushOnReachable: init.flushOnReachable ?? base.flushOnReachable
  }
  validatePolicy(policy)
  return policy
}

function withInfinity(partial: Partial<Level>): Partial<Level> {
  const result: Partial<Level> = { ...partial }
  if ((partial as { maxRetries?: unknown }).maxRetries === null) result.maxRetries = Infinity
  if ((partial as { ttl?: unknown }).ttl === null) result.ttl = Infinity
  return result
}

const POLICY_FIELDS = new Set(['levels', 'protocols', 'fallback', 'flushOnReachable'])
const LEVEL_FIELDS = new Set(['persist', 'maxRetries', 'ttl', 'backoff', 'onExhausted'])

function rejectUnknown(value: object, known: Set<string>, where: string): void {
  for (const name of Object.keys(value)) {
    if (!known.has(name)) {
      throw new TypeError(
        `${where}.${name} is not an option (known: ${Array.from(known).join(', ')})`
      )
    }
  }
}

/** Throws `TypeError` naming the level and field of `level` that is wrong. */
export function validateLevel(level: Level, where: string): void {
  if (level == null || typeof level !== 'object') throw new TypeError(`${where} must be an object`)
  rejectUnknown(level, LEVEL_FIELDS, where)
  if (typeof level.persist !== 'boolean') throw new TypeError(`${where}.persist must be a boolean`)
  if (!isCount(level.maxRetries)) {
    throw new TypeError(`${where}.maxRetries must be an integer >= 0 or Infinity`)
  }
  if (typeof level.ttl !== 'number' || Number.isNaN(level.ttl) || level.ttl <= 0) {
    throw new TypeError(`${where}.ttl must be a number of milliseconds > 0 or Infinity`)
  }
  if (level.onExhausted !== 'drop' && level.onExhausted !== 'dead-letter') {
    throw new TypeError(`${where}.onExhausted must be "drop" or "dead-letter"`)
  }
  validateBackoff(level.backoff, where)
}

/** Throws `TypeError` naming the first field of `policy` that is wrong. */
export function validatePolicy(policy: Policy): void {
  if (policy == null || typeof policy !== 'object') throw new TypeError('policy must be an object')
  rejectUnknown(policy, POLICY_FIELDS, 'policy')
  if (policy.levels == null || typeof policy.levels !== 'object') {
    throw new TypeError('policy.levels must be an object')
  }
  for (const [name, level] of Object.entries(policy.levels)) {
    const where = `policy.levels.${name}`
    if (name === NONE) throw new TypeError(`${where}: "none" is reserved and cannot be defined`)
    validateLevel(level, where)
  }
  const known = (name: string): boolean => name === NONE || Object.hasOwn(policy.levels, name)
  for (const [protocol, name] of Object.entries(policy.protocols ?? {})) {
    if (typeof name !== 'string' || !known(name)) {
      throw new TypeError(`policy.protocols["${protocol}"] names unknown level "${String(name)}"`)
    }
  }
  if (typeof policy.fallback !== 'string' || !known(policy.fallback)) {
    throw new TypeError(`policy.fallback names unknown level "${String(policy.fallback)}"`)
  }
  if (typeof policy.flushOnReachable !== 'boolean') {
    throw new TypeError('policy.flushOnReachable must be a boolean')
  }
}

function isCount(value: unknown): boolean {
  return value === Infinity || (typeof value === 'number' && Number.isInteger(value) && value >= 0)
}

/** The level name for `protocol` under `policy`. */
export function levelOf(policy: Policy, protocol: string): string {
  return Object.hasOwn(policy.protocols, protocol)
    ? (policy.protocols[protocol] as string)
    : policy.fallback
}

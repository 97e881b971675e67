import type { LoggerFactory, PrivateKeyInput } from '@dntkit/core'
import type { AbstractLevel } from 'abstract-level'
import { DEFAULT_PREFIX } from './constants.js'
import type { LockMode, Platform } from './platform.js'

/**
 * An application's own database or sublevel: any `abstract-level` database
 * (`Level`, `ClassicLevel`, `BrowserLevel`, `MemoryLevel`, a sublevel of one).
 * Its encodings do not matter: the store opens a binary sublevel inside it.
 */
// biome-ignore lint/suspicious/noExplicitAny: an application's database may use any encodings
export type ApplicationDatabase = AbstractLevel<any, any, any>

/** Options of `levelStore()`. Give `location` or `db`, and a key or `encryption: false`. */
export interface LevelStoreInit {
  /** Directory (Node) or IndexedDB name (browser) of a database the store opens and owns. */
  location?: string
  /** An application's open database or sublevel; the store keeps to its `prefix` inside it and never closes it. */
  db?: ApplicationDatabase
  /** The node's Ed25519 private key (64 raw bytes or a libp2p `PrivateKey`); the store key is derived from it. */
  privateKey?: PrivateKeyInput
  /** The AES-256-GCM store key itself (32 bytes or a `CryptoKey`), instead of `privateKey`. */
  key?: CryptoKey | Uint8Array
  /** `false` stores values unencrypted; only when passed explicitly. */
  encryption?: boolean
  /** Name of the sublevel that holds the store's keys (default `dntkit`). */
  prefix?: string
  /**
   * Read without ever writing (default false): no marker is created, no
   * value moved, and `apply()` rejects with `StoreReadOnlyError`. With
   * `location` in Node, the store reads a private copy of the database taken
   * into a temporary directory (LevelDB cannot open a database without
   * writing to it, and a running writer holds its lock), removed on
   * `close()`; a missing database is an empty store and nothing is created.
   */
  readOnly?: boolean
  /**
   * What `open()` does with a value that fails authentication or decoding:
   * `'throw'` (default) a `StoreCorruptError` naming its key, nothing
   * changed; `'quarantine'` moves it under `q` + its key (kept, listed by
   * `quarantined()`) and loads the others (read-only: skips it).
   */
  onCorrupt?: 'throw' | 'quarantine'
  /** @deprecated `true` is `onCorrupt: 'quarantine'`. */
  quarantine?: boolean
  /**
   * Browsers: what `open()` does when another tab, worker or store holds the
   * store's Web Lock: `'fail'` (default) rejects with `StoreLockedError` at
   * once, `'wait'` waits until the holder closes or goes away, `'none'` takes
   * no lock (only when the application itself guarantees one writer). Node
   * accepts only `'fail'`: LevelDB's lock file refuses a second opener.
   */
  lock?: LockMode
  /** Logger factory (default: core's `defaultLogger`, `DEBUG=dntkit:store-level`). */
  logger?: LoggerFactory
}

/** The options after checking, with defaults applied. */
export interface ResolvedInit {
  location?: string
  db?: ApplicationDatabase
  keySource?: { privateKey?: PrivateKeyInput; key?: CryptoKey | Uint8Array }
  prefix: string
  quarantine: boolean
  readOnly: boolean
  lock: LockMode
  logger?: LoggerFactory
  /** How messages name this store. */
  where: string
}

const PREFIX_PATTERN = /^[\x23-\x7e]+$/
const LOCK_MODES: readonly unknown[] = ['fail', 'wait', 'none']

/** Whether `db` (a database or a sublevel) lives at a location another context can open too. */
function hasOwnLocation(db: ApplicationDatabase): boolean {
  const root = (db as { parent?: unknown }).parent != null ? (db as { db?: unknown }).db : db
  return typeof (root as { location?: unknown } | undefined)?.location === 'string'
}

/** Checks `init`; throws `TypeError` naming the option that is wrong. */
export function resolveInit(init: LevelStoreInit, platform: Platform): ResolvedInit {
  if (init == null || typeof init !== 'object')
    throw new TypeError('levelStore() needs an options object')
  const hasLocation = init.location !== undefined
  const hasDb = init.db !== undefined
  if (hasLocation === hasDb) {
    throw new TypeError(
      'levelStore() needs exactly one of `location` (a path) or `db` (an abstract-level database)'
    )
  }
  if (hasLocation && (typeof init.location !== 'string' || init.location.length === 0)) {
    throw new TypeError('levelStore() option `location` must be a non-empty string')
  }
  if (hasDb && typeof (init.db as { sublevel?: unknown }).sublevel !== 'function') {
    throw new TypeError('levelStore() option `db` must be an abstract-level database or sublevel')
  }
  const prefix = init.prefix ?? DEFAULT_PREFIX
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new TypeError(
      `levelStore() option \`prefix\` must be a non-empty string of the ASCII characters # to ~ (got ${JSON.stringify(prefix)})`
    )
  }
  if (init.quarantine !== undefined && typeof init.quarantine !== 'boolean') {
    throw new TypeError('levelStore() option `quarantine` must be a boolean')
  }
  if (init.readOnly !== undefined && typeof init.readOnly !== 'boolean') {
    throw new TypeError('levelStore() option `readOnly` must be a boolean')
  }
  if (
    init.onCorrupt !== undefined &&
    init.onCorrupt !== 'throw' &&
    init.onCorrupt !== 'quarantine'
  ) {
    throw new TypeError('levelStore() option `onCorrupt` must be "throw" or "quarantine"')
  }
  if (init.encryption !== undefined && typeof init.encryption !== 'boolean') {
    throw new TypeError('levelStore() option `encryption` must be a boolean')
  }
  if (init.lock !== undefined && !LOCK_MODES.includes(init.lock)) {
    throw new TypeError(
      `levelStore() option \`lock\` must be "fail", "wait" or "none" (got ${JSON.stringify(init.lock)})`
    )
  }
  const lock = platform.resolveLock(init.lock, hasLocation || hasOwnLocation(init.db!))
  const hasKey = init.privateKey != null || init.key != null
  if (init.encryption === false && hasKey) {
    throw new TypeError(
      'levelStore() got `encryption: false` together with a key: pass one or the other'
    )
  }
  if (init.encryption !== false && !hasKey) {
    throw new TypeError(
      'levelStore() needs `privateKey` or `key` to encrypt the store (or `encryption: false`, explicitly)'
    )
  }
  const where = hasLocation
    ? `level store at "${init.location}" (sublevel "${prefix}")`
    : `level store in sublevel "${prefix}" of the given database`
  const quarantine =
    (init.onCorrupt ?? (init.quarantine === true ? 'quarantine' : 'throw')) === 'quarantine'
  const resolved: ResolvedInit = {
    prefix,
    quarantine,
    readOnly: init.readOnly ?? false,
    lock,
    where
  }
  if (hasLocation) resolved.location = init.location as string
  if (hasDb) resolved.db = init.db as ApplicationDatabase
  if (hasKey) {
    resolved.keySource = {}
    if (init.privateKey != null) resolved.keySource.privateKey = init.privateKey
    if (init.key != null) resolved.keySource.key = init.key
  }
  if (init.logger !== undefined) resolved.logger = init.logger
  return resolved
}

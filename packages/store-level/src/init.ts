import type { LoggerFactory, PrivateKeyInput } from '@dntkit/core'
import { StoreKey } from '@dntkit/core/plugin'
import type { AbstractLevel } from 'abstract-level'
import { DEFAULT_PREFIX } from './constants.js'
import type { LockMode, Platform } from './platform.js'

/**
 * An application's own database or sublevel: any `abstract-level` database
 * (`Level`, `ClassicLevel`, `BrowserLevel`, `MemoryLevel`, a sublevel of one).
 * Its encodings do not matter: the store opens a binary sublevel inside it.
 * Typed by the two members every such database has, so that a database of
 * any encodings fits without a cast.
 */
export interface ApplicationDatabase {
  /** `'open'` once the database is open (abstract-level's status). */
  readonly status: string
  /** A binary sublevel of the database: the store keeps its keys in one. */
  sublevel(name: string, options: { keyEncoding: 'view'; valueEncoding: 'view' }): object
}

/** An application's database as the store uses it inside. */
// biome-ignore lint/suspicious/noExplicitAny: an application's database may use any encodings
export type LevelDatabase = AbstractLevel<any, any, any>

/**
 * Options of `levelStore()`. Give `location` or `db`. The key: `privateKey`
 * or `key`, or none when the `dnt()` service runs the store (it gives the
 * libp2p node's own private key), or `encryption: false`.
 */
export interface LevelStoreInit {
  /** Directory (Node) or IndexedDB name (browser) of a database the store opens and owns. */
  location?: string
  /** An application's open database or sublevel; the store keeps to its `prefix` inside it and never closes it. */
  db?: ApplicationDatabase
  /**
   * The node's Ed25519 private key (64 raw bytes or a libp2p `PrivateKey`);
   * the store key is derived from it. Default: the private key of the libp2p
   * node whose `dnt()` service runs the store, so the store follows the
   * node's identity.
   */
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
  db?: LevelDatabase
  /** Where the key comes from (given, the node's, or none). */
  key: StoreKey
  prefix: string
  quarantine: boolean
  readOnly: boolean
  lock: LockMode
  logger?: LoggerFactory
  /** How messages name this store. */
  where: string
}

const OPTIONS = new Set([
  'location',
  'db',
  'privateKey',
  'key',
  'encryption',
  'prefix',
  'readOnly',
  'onCorrupt',
  'quarantine',
  'lock',
  'logger'
])

const PREFIX_PATTERN = /^[\x23-\x7e]+$/
const LOCK_MODES: readonly unknown[] = ['fail', 'wait', 'none']

/** Whether `db` (a database or a sublevel) lives at a location another context can open too. */
function hasOwnLocation(db: LevelDatabase): boolean {
  const root = (db as { parent?: unknown }).parent != null ? (db as { db?: unknown }).db : db
  return typeof (root as { location?: unknown } | undefined)?.location === 'string'
}

/** Checks `init`; throws `TypeError` naming the option that is wrong. */
export function resolveInit(init: LevelStoreInit, platform: Platform): ResolvedInit {
  if (init == null || typeof init !== 'object')
    throw new TypeError('levelStore() needs an options object')
  for (const name of Object.keys(init)) {
    if (!OPTIONS.has(name)) throw new TypeError(`levelStore(): unknown option "${name}"`)
  }
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
  const db = init.db as unknown as LevelDatabase | undefined
  const lock = platform.resolveLock(init.lock, hasLocation || hasOwnLocation(db!))
  const key = new StoreKey(init, 'levelStore()')
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
    where,
    key
  }
  if (hasLocation) resolved.location = init.location as string
  if (db !== undefined) resolved.db = db
  if (init.logger !== undefined) resolved.logger = init.logger
  return resolved
}

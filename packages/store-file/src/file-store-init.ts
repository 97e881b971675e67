import type { Entry, LoggerFactory, PrivateKeyInput, Store, StoreNode } from '@dntkit/core'
import type { StoreEventTarget, StoreWarning } from './warnings.js'

/** When the journal is compacted into a new snapshot. */
export interface CompactionInit {
  /** A journal smaller than this is never compacted (default 1 MiB). */
  minJournalBytes?: number
  /** Compact when the journals hold this many times the bytes of the live entries (default 1). */
  journalBytesRatio?: number
  /** ... or this many records per live entry (default 0.125; bounds the records replayed by `open()`). */
  journalRecordsRatio?: number
}

/** Options of `fileStore()`. */
export interface FileStoreInit {
  /** The store's directory; created (0700) if missing. */
  directory: string
  /**
   * The node's Ed25519 private key (64 raw bytes or a libp2p `PrivateKey`);
   * the store key is derived from it. Default: the private key of the libp2p
   * node whose `dnt()` service runs the store, so the store follows the
   * node's identity.
   */
  privateKey?: PrivateKeyInput
  /** The store key itself (AES-256, 32 bytes or a `CryptoKey`), instead of `privateKey`. */
  key?: CryptoKey | Uint8Array
  /**
   * Read without ever writing: no directory, lock file or journal is
   * created, a torn tail is reported and left in place, and `apply()` /
   * `compact()` reject with `StoreReadOnlyError` (default false).
   */
  readOnly?: boolean
  /**
   * What `open()` does about damage other than a torn tail: `'throw'`
   * (default) a `StoreCorruptError` and nothing on disk changed;
   * `'quarantine'` keeps each damaged file as `<name>.corrupt-<time>`,
   * rebuilds the store from every record that still authenticates (what
   * `repairFileStore()` does) and opens it, with a `quarantined` warning.
   */
  onCorrupt?: 'throw' | 'quarantine'
  /** @deprecated `true` is `onCorrupt: 'quarantine'`. */
  quarantine?: boolean
  /** Compaction thresholds, or `false` for no automatic compaction (`compact()` still works). */
  compaction?: CompactionInit | false
  /** Called with every warning, besides the `warning` event. */
  onWarning?: (warning: StoreWarning) => void
  logger?: LoggerFactory
}

/** The store `fileStore()` returns: a `Store` that also emits `warning` events. */
export interface FileStore extends Store, StoreEventTarget {
  open(): Promise<Entry[]>
  /** Writes a snapshot of the current entries now and drops the journals it replaces. */
  compact(): Promise<void>
  /** The node's private key, used when the store was made without `privateKey` or `key` (the `dnt()` service calls it). */
  useNode(node: StoreNode): void
}

const OPTIONS = new Set([
  'directory',
  'privateKey',
  'key',
  'readOnly',
  'onCorrupt',
  'quarantine',
  'compaction',
  'onWarning',
  'logger'
])

/** Checks the options of `fileStore()`; throws `TypeError` naming the one at fault. */
export function resolveFileStoreInit(
  init: FileStoreInit
): FileStoreInit & { onCorrupt: 'throw' | 'quarantine' } {
  if (init == null || typeof init !== 'object')
    throw new TypeError('fileStore: init must be an object')
  const unknown = Object.keys(init).find((name) => !OPTIONS.has(name))
  if (unknown !== undefined) throw new TypeError(`fileStore: unknown option "${unknown}"`)
  if (typeof init.directory !== 'string' || init.directory.length === 0) {
    throw new TypeError('fileStore: directory must be a non-empty string')
  }
  return { ...init, onCorrupt: resolveOnCorrupt('fileStore', init) }
}

/** `onCorrupt`, or the deprecated `quarantine: true`, checked; default `'throw'`. */
export function resolveOnCorrupt(
  what: string,
  init: { onCorrupt?: unknown; quarantine?: unknown; readOnly?: unknown }
): 'throw' | 'quarantine' {
  if (init.readOnly !== undefined && typeof init.readOnly !== 'boolean') {
    throw new TypeError(`${what}: readOnly must be a boolean`)
  }
  if (init.quarantine !== undefined && typeof init.quarantine !== 'boolean') {
    throw new TypeError(`${what}: quarantine must be a boolean`)
  }
  const onCorrupt = init.onCorrupt ?? (init.quarantine === true ? 'quarantine' : 'throw')
  if (onCorrupt !== 'throw' && onCorrupt !== 'quarantine') {
    throw new TypeError(`${what}: onCorrupt must be "throw" or "quarantine"`)
  }
  return onCorrupt
}

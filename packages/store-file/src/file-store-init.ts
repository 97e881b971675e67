import type { Entry, LoggerFactory, PrivateKeyInput, Store } from '@dntkit/core'
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
  /** The node's Ed25519 private key (64 raw bytes or a libp2p `PrivateKey`); the store key is derived from it. */
  privateKey?: PrivateKeyInput
  /** The store key itself (AES-256, 32 bytes or a `CryptoKey`), instead of `privateKey`. */
  key?: CryptoKey | Uint8Array
  /** Move unreadable store files aside into `quarantine-*` and start empty instead of failing (default false). */
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
}

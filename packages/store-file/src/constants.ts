/** HKDF label of the `fileStore` key (info of HKDF-SHA256 over the node's Ed25519 key). */
export const FILE_STORE_LABEL = 'dntkit/store-file/v1'

/** HKDF label of the Go original's `dnt_cache.bin` key. */
export const OC_DISCOVERY_LABEL = 'oc-discovery/dnt-cache/v1'

/** Namespace of the default logger. */
export const LOGGER_NAME = 'dntkit:store-file'

/** Mode of every file the stores create. */
export const FILE_MODE = 0o600

/** Mode of a store directory the file store creates. */
export const DIRECTORY_MODE = 0o700

/** Name of the lock file inside a `fileStore` directory. */
export const LOCK_FILE = 'lock'

/** Suffix of the lock file beside an `ocDiscoveryFileStore` file. */
export const LOCK_SUFFIX = '.lock'

/** Suffix of a file being written before its atomic rename. */
export const TEMPORARY_SUFFIX = '.tmp'

/** Defaults of `fileStore({ compaction })`. */
export const DEFAULT_COMPACTION = {
  /** A journal smaller than this is never compacted. */
  minJournalBytes: 1024 * 1024,
  /** Compact when the journals since the snapshot hold this many times the snapshot's bytes. */
  journalBytesRatio: 1,
  /** ... or this many records per live entry (bounds the records replayed on open). */
  journalRecordsRatio: 0.125
} as const

/** Target plaintext size of one snapshot record. */
export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024

/** Records authenticated concurrently when a file is read (WebCrypto runs them on the thread pool). */
export const OPEN_CONCURRENCY = 256

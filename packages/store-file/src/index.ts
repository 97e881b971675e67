/**
 * @packageDocumentation
 *
 * Encrypted, crash-safe file persistence for dntkit's `Outbox`.
 * `fileStore()` keeps entries in a directory as an append-only journal of
 * AES-256-GCM sealed batch records plus a snapshot, compacted in the
 * background, so an `apply` costs the same with 10 or 100,000 entries queued;
 * `apply` resolves only once its data is fsynced, a torn tail from a crash
 * is cut off by an open for writing (its bytes kept beside the journal),
 * anything else that fails authentication is a typed error saying where;
 * `readOnly: true` never writes, and `repairFileStore()` keeps every record
 * that still authenticates. `ocDiscoveryFileStore()` reads and writes the Go
 * original's `dnt_cache.bin`, bit for bit.
 *
 * @example
 *
 * ```ts
 * import { Outbox } from '@dntkit/core'
 * import { fileStore } from '@dntkit/store-file'
 *
 * const store = fileStore({ directory: './dnt-store', privateKey: node.privateKey })
 * store.addEventListener('warning', (event) => console.warn(event.detail.message))
 * const outbox = new Outbox({ transport, store })
 * await outbox.start()
 * ```
 */
export {
  DEFAULT_COMPACTION,
  FILE_STORE_LABEL,
  OC_DISCOVERY_LABEL
} from './constants.js'
export { fileStore } from './file-store.js'
export type { CompactionInit, FileStore, FileStoreInit } from './file-store-init.js'
export {
  type RepairOcDiscoveryStoreInit,
  repairOcDiscoveryStore
} from './oc-discovery-repair.js'
export {
  type OcDiscoveryFileStore,
  type OcDiscoveryFileStoreInit,
  ocDiscoveryFileStore
} from './oc-discovery-store.js'
export { type RepairFileStoreInit, repairFileStore } from './repair.js'
export type {
  StoreEvents,
  StoreEventTarget,
  StoreWarning,
  StoreWarningCode
} from './warnings.js'

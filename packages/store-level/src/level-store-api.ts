import type { Entry, Store, StoreNode } from '@dntkit/core'
import type { OutboxOperation } from './batch-operations.js'

/** A value `onCorrupt: 'quarantine'` moved aside. */
export interface QuarantinedValue {
  /** The key it was found under, e.g. `e:42`. */
  key: string
  /** The stored bytes, unchanged. */
  value: Uint8Array
}

/** A `Store` on LevelDB (or any abstract-level database). */
export interface LevelStore extends Store {
  open(): Promise<Entry[]>
  /** Values set aside by `onCorrupt: 'quarantine'`, oldest key first; the store must be open. */
  quarantined(): Promise<QuarantinedValue[]>
  /**
   * The transactional outbox: the operations that put `entries` (made with
   * `createEntry()` of @dntkit/core, or `node.services.dnt.createEntry()`)
   * into this store, for the application's own `db.batch()` next to its own
   * writes, so that its records and the messages about them are written
   * together or not at all. Hand the entries to `outbox.adopt()` once that
   * batch resolved. The store must be open, in an application's database
   * (`db`); the batch must go to that database (its root or any sublevel of
   * it). An id the store already holds with the same message gets no
   * operation; with another message it throws `DuplicateIdError`.
   */
  batchOperations(entries: Entry[]): Promise<OutboxOperation[]>
  /** The node's private key, used when the store was made without `privateKey`, `key` or `encryption: false`. */
  useNode(node: StoreNode): void
}

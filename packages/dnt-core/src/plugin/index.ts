/**
 * @packageDocumentation
 *
 * Building blocks for `Store` and `Transport` authors: the `AbstractStore`
 * base class (open/close/read-only state machine and batch validation), the
 * `StoreKey` that follows the node's key, the AEAD and its key derivation,
 * the entry codec and byte helpers of the on-disk formats, the validators
 * a store runs on what it is given, the message-id rule (`MAX_ID_BYTES`,
 * `utf8Length`) a receiver applies too, and the option-name check every
 * factory of dntkit runs (`rejectUnknownOptions`).
 *
 * The rule: `@dntkit/core` holds what an application calls or names (the
 * `Outbox`, policies, errors, the contract types a store or transport
 * implements); this entry holds what only plugin code calls. An application
 * never needs it.
 *
 * @example
 *
 * ```ts
 * import type { Entry } from '@dntkit/core'
 * import { AbstractStore, type ValidBatch } from '@dntkit/core/plugin'
 *
 * class MapStore extends AbstractStore {
 *   private readonly entries = new Map<string, Entry>()
 *   constructor() { super({ name: 'map store' }) }
 *   protected async _open(): Promise<Entry[]> { return [...this.entries.values()] }
 *   protected async _apply(batch: ValidBatch): Promise<void> {
 *     for (const id of batch.delete) this.entries.delete(id)
 *     for (const entry of batch.put) this.entries.set(entry.id, entry)
 *   }
 *   protected async _close(): Promise<void> {}
 * }
 * ```
 */

export { type Aead, createAead, type KeySource } from '../aead.js'
export { backoffDelay } from '../backoff.js'
export { ByteReader, ByteWriter, concatBytes, utf8 } from '../bytes.js'
export {
  deriveKeyBytes,
  deriveStoreKey,
  importAeadKey,
  NONCE_BYTES,
  open,
  rawPrivateKey,
  resolveStoreKey,
  seal,
  TAG_BYTES
} from '../crypto.js'
export { decodeEntry, encodeEntry } from '../entry-codec.js'
export { checkOptions, rejectUnknownOptions } from '../option-names.js'
export { peerText } from '../outgoing-message.js'
export { validateLevel } from '../policy.js'
export {
  AbstractStore,
  type AbstractStoreInit,
  type StoreStatus,
  type ValidBatch
} from '../store-base.js'
export { StoreKey, type StoreKeyInit, type StoreKeyOrigin } from '../store-key.js'
export {
  cloneEntry,
  MAX_ID_BYTES,
  MAX_STORE_ID_BYTES,
  utf8Length,
  validateBatch,
  validateEntry,
  validateMessage
} from '../validate.js'

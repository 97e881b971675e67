import { decodeEntry, encodeEntry } from './entry-codec.js'
import { rejectUnknownOptions } from './option-names.js'
import { AbstractStore, type ValidBatch } from './store-base.js'
import type { Entry, Store } from './types.js'

/** Options of `memoryStore()`. */
export interface MemoryStoreInit {
  /** Entries present before the first open (copied). */
  entries?: Entry[]
  /** Refuse every `apply()` with `StoreReadOnlyError` (default false). */
  readOnly?: boolean
}

class MemoryStore extends AbstractStore {
  // each entry kept as its compact encoding: a copy, and one object per entry for the GC
  private readonly entries = new Map<string, Uint8Array>()

  constructor(init: MemoryStoreInit) {
    super({ name: 'memory store', readOnly: init.readOnly ?? false })
    for (const entry of init.entries ?? []) this.entries.set(entry.id, encodeEntry(entry))
  }

  protected async _open(): Promise<Entry[]> {
    return Array.from(this.entries.values(), decodeEntry)
  }

  protected override async _reread(): Promise<Entry[]> {
    return this._open()
  }

  protected async _apply({ put, delete: remove }: ValidBatch): Promise<void> {
    // encoded first: the batch applies whole or not at all
    const encoded = put.map(encodeEntry)
    // deletes first: an id both deleted and put in one batch moves to the end
    for (const id of remove) this.entries.delete(id)
    put.forEach((entry, index) => {
      this.entries.set(entry.id, encoded[index] as Uint8Array)
    })
  }

  protected async _close(): Promise<void> {}
}

/**
 * A `Store` in memory: nothing survives the process, but the contents survive
 * `close()` and a later `open()` of the same instance, which is how tests
 * simulate a restart. `open()` of an open memory store reads it again.
 * Entries are copied in and out. Unknown option names are a `TypeError`.
 */
export function memoryStore(init: MemoryStoreInit = {}): Store {
  if (init == null || typeof init !== 'object') {
    throw new TypeError('memoryStore: init must be an object')
  }
  rejectUnknownOptions(init, ['entries', 'readOnly'], 'memoryStore')
  if (init.entries !== undefined && !Array.isArray(init.entries)) {
    throw new TypeError('memoryStore: entries must be an array of entries')
  }
  return new MemoryStore(init)
}

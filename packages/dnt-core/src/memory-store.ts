import { decodeEntry, encodeEntry } from './entry-codec.js'
import { StoreClosedError } from './errors.js'
import type { Entry, Store, StoreBatch } from './types.js'
import { validateBatch } from './validate.js'

/** Options of `memoryStore()`. */
export interface MemoryStoreInit {
  /** Entries present before the first open (copied). */
  entries?: Entry[]
}

class MemoryStore implements Store {
  // each entry kept as its compact encoding: a copy, and one object per entry for the GC
  private readonly entries = new Map<string, Uint8Array>()
  private opened = false

  constructor(init: MemoryStoreInit) {
    for (const entry of init.entries ?? []) this.entries.set(entry.id, encodeEntry(entry))
  }

  async open(): Promise<Entry[]> {
    this.opened = true
    return Array.from(this.entries.values(), decodeEntry)
  }

  async apply(batch: StoreBatch): Promise<void> {
    if (!this.opened) throw new StoreClosedError('memory store is not open')
    const { put, delete: remove } = validateBatch(batch)
    // validated first, so the batch applies whole or not at all
    const encoded = put.map(encodeEntry)
    // deletes first: an id both deleted and put in one batch moves to the end
    for (const id of remove) this.entries.delete(id)
    put.forEach((entry, index) => {
      this.entries.set(entry.id, encoded[index] as Uint8Array)
    })
  }

  async close(): Promise<void> {
    this.opened = false
  }
}

/**
 * A `Store` in memory: nothing survives the process, but the contents survive
 * `close()` and a later `open()` of the same instance, which is how tests
 * simulate a restart. Entries are copied in and out.
 */
export function memoryStore(init: MemoryStoreInit = {}): Store {
  return new MemoryStore(init)
}

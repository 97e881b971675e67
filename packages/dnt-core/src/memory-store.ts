import { StoreClosedError } from './errors.js'
import type { Entry, Store, StoreBatch } from './types.js'
import { cloneEntry, validateBatch } from './validate.js'

/** Options of `memoryStore()`. */
export interface MemoryStoreInit {
  /** Entries present before the first open (copied). */
  entries?: Entry[]
}

class MemoryStore implements Store {
  private readonly entries = new Map<string, Entry>()
  private opened = false

  constructor(init: MemoryStoreInit) {
    for (const entry of init.entries ?? []) this.entries.set(entry.id, cloneEntry(entry))
  }

  async open(): Promise<Entry[]> {
    this.opened = true
    return Array.from(this.entries.values(), cloneEntry)
  }

  async apply(batch: StoreBatch): Promise<void> {
    if (!this.opened) throw new StoreClosedError('memory store is not open')
    const { put, delete: remove } = validateBatch(batch)
    // validated first, so the batch applies whole or not at all
    for (const entry of put) this.entries.set(entry.id, cloneEntry(entry))
    for (const id of remove) this.entries.delete(id)
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

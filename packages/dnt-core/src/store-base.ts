import { StoreClosedError, StoreLockedError, StoreReadOnlyError } from './errors.js'
import type { Entry, Store, StoreBatch } from './types.js'
import { cloneEntry, validateBatch } from './validate.js'

/** Where a store is in its life: `closed` -> `opening` -> `open` -> `closing` -> `closed`. */
export type StoreStatus = 'closed' | 'opening' | 'open' | 'closing'

/** A batch as `AbstractStore` hands it to `_apply()`: checked, and copied. */
export interface ValidBatch {
  /** Copies of the entries to put, in batch order: nothing outside the store references them. */
  put: Entry[]
  /** Ids to delete, in batch order (unknown ids included: a store ignores them). */
  delete: string[]
}

/** Options of the `AbstractStore` constructor. */
export interface AbstractStoreInit {
  /** How error messages name the store, e.g. `file store /var/lib/app/outbox`. */
  name: string
  /** Open for reading only: `apply()` rejects with `StoreReadOnlyError` (default false). */
  readOnly?: boolean
}

/**
 * The base of every dntkit store, in the manner of `abstract-level`: the
 * public `open()`, `apply()` and `close()` check their arguments and the
 * store's state and run one at a time in call order; a store implements only
 * the primitives `_open()`, `_apply()` and `_close()` (and optionally
 * `_reread()`), which never run concurrently with each other.
 *
 * What every store built on it does, without writing a line for it:
 *
 * - `apply()` validates the batch (`TypeError` naming the field, nothing
 *   applied), copies its entries at once (a caller may change its objects as
 *   soon as `apply()` returns), and rejects with `StoreClosedError` when the
 *   store is not open by the time the call's turn comes, or with
 *   `StoreReadOnlyError` when it was made with `readOnly: true`.
 * - Calls made while the store opens or closes wait for it: an `apply()`
 *   called right after `open()` runs once the store is open; one called after
 *   `close()` is refused; `close()` waits for every earlier call.
 * - `open()` of an open store calls `_reread()` when the store has it, and
 *   rejects with `StoreLockedError` when it does not. `close()` of a closed
 *   store does nothing. A failed `_open()` leaves the store closed (the
 *   primitive releases what it took before it rejects).
 *
 * It is an `EventTarget`, so a store can dispatch events (warnings) of its own.
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
 *     for (const entry of batch.put) this.entries.set(entry.id, entry)
 *     for (const id of batch.delete) this.entries.delete(id)
 *   }
 *   protected async _close(): Promise<void> {}
 * }
 * ```
 */
export abstract class AbstractStore<Opened extends Entry[] | AsyncIterable<Entry> = Entry[]>
  extends EventTarget
  implements Store
{
  /** True when the store never writes: `apply()` rejects with `StoreReadOnlyError`. */
  readonly readOnly: boolean
  /** How messages name this store. */
  protected readonly storeName: string
  #status: StoreStatus = 'closed'
  #queue: Promise<unknown> = Promise.resolve()

  protected constructor(init: AbstractStoreInit) {
    super()
    if (init == null || typeof init.name !== 'string' || init.name.length === 0) {
      throw new TypeError('AbstractStore: init.name must be a non-empty string')
    }
    if (init.readOnly !== undefined && typeof init.readOnly !== 'boolean') {
      throw new TypeError(`${init.name}: readOnly must be a boolean`)
    }
    this.storeName = init.name
    this.readOnly = init.readOnly ?? false
  }

  /** Where the store is in its life. */
  get status(): StoreStatus {
    return this.#status
  }

  /** Opens the store and returns every entry it holds, in first-put order. */
  open(): Promise<Opened> {
    return this.serialize(async () => {
      if (this.#status === 'open') {
        if (this._reread === undefined) {
          throw new StoreLockedError(`${this.storeName} is already open`)
        }
        return this._reread()
      }
      this.#status = 'opening'
      try {
        const opened = await this._open()
        this.#status = 'open'
        return opened
      } catch (error) {
        this.#status = 'closed'
        throw error
      }
    })
  }

  /** Applies `batch` atomically; resolves once it is durable. */
  async apply(batch: StoreBatch): Promise<void> {
    const checked = validateBatch(batch)
    const copy: ValidBatch = { put: checked.put.map(cloneEntry), delete: checked.delete.slice() }
    return this.serialize(async () => {
      if (this.#status !== 'open') throw new StoreClosedError(`${this.storeName} is not open`)
      if (this.readOnly) {
        throw new StoreReadOnlyError(`${this.storeName} was opened read-only: it never writes`)
      }
      await this._apply(copy)
    })
  }

  /** Waits for every earlier call, then releases the store; `open()` may be called again. */
  close(): Promise<void> {
    return this.serialize(async () => {
      if (this.#status !== 'open') return
      this.#status = 'closing'
      try {
        await this._close()
      } finally {
        this.#status = 'closed'
      }
    })
  }

  /**
   * Runs `task` after every call made before it has settled, and before any
   * made after it: the same queue `open()`, `apply()` and `close()` use, for a
   * store's own background work (a compaction). Never await it from inside a
   * primitive or a task: that task would wait for itself.
   */
  protected serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task)
    this.#queue = run.catch(() => {})
    return run
  }

  /**
   * Opens the underlying files or database and returns every entry, in
   * first-put order. On failure it releases whatever it took, then rejects
   * (`StoreCorruptError`, `StoreKeyMismatchError`, `StoreLockedError`, ...).
   * With `readOnly`, it writes nothing, creates nothing and takes no lock
   * that would stop a writer.
   */
  protected abstract _open(): Promise<Opened>

  /**
   * Applies a checked, copied batch atomically and durably: all of it or
   * none of it. Putting an existing id replaces that entry in its position;
   * deleting an unknown id does nothing. Never called on a read-only store.
   */
  protected abstract _apply(batch: ValidBatch): Promise<void>

  /** Releases files, locks and handles; waits for the store's background work. */
  protected abstract _close(): Promise<void>

  /** Reads the entries of the open store again (for `open()` of an open store); optional. */
  protected _reread?(): Promise<Opened>
}

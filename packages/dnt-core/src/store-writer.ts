import { StoreUnavailableError } from './errors.js'
import type { PendingEntry } from './pending-entry.js'
import type { Entry, Store } from './types.js'

interface Waiter {
  resolve(): void
  reject(error: unknown): void
}

interface PendingPut {
  entry: PendingEntry
  waiters: Waiter[]
}

/**
 * Group commit: at most one `Store.apply` in flight; everything that arrives
 * meanwhile is gathered into the next batch. A put is resolved once the
 * batch holding its latest version is durable. A delete that finds its put
 * still waiting cancels both, so an entry delivered before its batch was
 * written costs the store nothing.
 */
export class StoreWriter {
  private puts = new Map<string, PendingPut>()
  private deletes = new Set<string>()
  private deleteWaiters: Waiter[] = []
  /** Deletes of a failed batch, written with the next batch or by `retry()`. */
  private deferredDeletes = new Set<string>()
  private readonly inFlightIds = new Set<string>()
  private running: Promise<void> | undefined
  private idleWaiters: Array<() => void> = []
  /** Applies made so far (for tests and stats). */
  batches = 0

  constructor(
    private readonly store: Store,
    private readonly events: { onError(error: unknown): void; onSuccess(): void }
  ) {}

  get busy(): boolean {
    return this.running !== undefined || this.puts.size > 0 || this.deletes.size > 0
  }

  /** Writes the entry's current state; resolves when durable. */
  put(entry: PendingEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const existing = this.puts.get(entry.id)
      if (existing !== undefined) existing.waiters.push({ resolve, reject })
      else this.puts.set(entry.id, { entry, waiters: [{ resolve, reject }] })
      this.deletes.delete(entry.id)
      this.kick()
    })
  }

  /** Removes the entry from the store (if it ever reached it); resolves when durable. */
  delete(entry: PendingEntry): Promise<void> {
    const waiting = this.puts.get(entry.id)
    if (waiting !== undefined) {
      this.puts.delete(entry.id)
      for (const waiter of waiting.waiters) waiter.resolve()
    }
    if (!entry.stored && !this.inFlightIds.has(entry.id)) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      this.deletes.add(entry.id)
      this.deleteWaiters.push({ resolve, reject })
      this.kick()
    })
  }

  /** Deletes that failed and wait for `retry()` or the next batch. */
  get deferred(): number {
    return this.deferredDeletes.size
  }

  /** Writes the deferred deletes now (used to probe a store that failed). */
  retry(): Promise<void> {
    for (const id of this.deferredDeletes) this.deletes.add(id)
    this.deferredDeletes.clear()
    this.probe = true
    return new Promise<void>((resolve, reject) => {
      this.deleteWaiters.push({ resolve, reject })
      this.kick()
    })
  }

  private probe = false

  /** Resolves when nothing is waiting or being written. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private kick(): void {
    if (this.running !== undefined) return
    if (this.puts.size === 0 && this.deletes.size === 0 && !this.probe) {
      const waiters = this.idleWaiters
      this.idleWaiters = []
      for (const resolve of waiters) resolve()
      return
    }
    this.running = this.writeNext().finally(() => {
      this.running = undefined
      this.kick()
    })
  }

  private async writeNext(): Promise<void> {
    this.probe = false
    const puts = this.puts
    const deletes = this.deletes
    const deleteWaiters = this.deleteWaiters
    this.puts = new Map()
    this.deletes = new Set()
    this.deleteWaiters = []
    for (const id of this.deferredDeletes) deletes.add(id)
    this.deferredDeletes.clear()
    const batch = { put: [] as Entry[], delete: Array.from(deletes) }
    for (const { entry } of puts.values()) {
      batch.put.push(entry.toEntry())
      this.inFlightIds.add(entry.id)
    }
    try {
      await this.store.apply(batch)
      this.batches++
      this.events.onSuccess()
      for (const { entry, waiters } of puts.values()) {
        entry.stored = true
        for (const waiter of waiters) waiter.resolve()
      }
      for (const waiter of deleteWaiters) waiter.resolve()
    } catch (error) {
      const failure = new StoreUnavailableError(
        `store write failed: ${(error as Error)?.message ?? String(error)}`,
        { cause: error }
      )
      for (const { waiters } of puts.values()) for (const waiter of waiters) waiter.reject(failure)
      for (const waiter of deleteWaiters) waiter.reject(failure)
      for (const id of deletes) this.deferredDeletes.add(id)
      this.events.onError(error)
    } finally {
      for (const { entry } of puts.values()) this.inFlightIds.delete(entry.id)
    }
  }
}

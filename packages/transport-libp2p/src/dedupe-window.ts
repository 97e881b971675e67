import type { Clock, Entry, Store } from '@dntkit/core'
import { DEDUPE_LEVEL, DEDUPE_MAX_AGE, DEDUPE_MAX_ENTRIES } from './constants.js'

/** How a receiver remembers the message ids it has processed. */
export interface DedupeInit {
  /** Ids remembered, at most; the oldest are forgotten first (default 100,000). */
  maxEntries?: number
  /** ms an id is remembered (default one day). */
  maxAge?: number
  /**
   * Keeps the window across restarts: any `Store` of dntkit (memory, file,
   * level). Each id is one entry: `id` = `<sender peer id>/<message id>`,
   * `level` = `dedupe`, `createdAt` = when it was processed, empty payload.
   */
  store?: Store
}

const EMPTY = new Uint8Array(0)

interface Deferred {
  promise: Promise<void>
  resolve(): void
  reject(error: unknown): void
}

function deferred(): Deferred {
  let resolve!: () => void
  let reject!: (error: unknown) => void
  const promise = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve
    reject = onReject
  })
  return { promise, resolve, reject }
}

/**
 * The ids processed recently, bounded by count and age. Lookups are in
 * memory; with a store, additions and evictions are written behind with group
 * commit (at most one `apply` in flight, the next gathering everything that
 * arrived meanwhile) and `add()` resolves once its record is durable.
 */
export class DedupeWindow {
  private readonly seen = new Map<string, number>()
  private readonly maxEntries: number
  private readonly maxAge: number
  private readonly store: Store | undefined
  /** key -> record to put, or null to delete; the latest change of a key wins. */
  private pending = new Map<string, Entry | null>()
  private next: Deferred | undefined
  private writing: Promise<void> | undefined
  private opened = false

  constructor(
    init: DedupeInit,
    private readonly clock: Clock
  ) {
    this.maxEntries = init.maxEntries ?? DEDUPE_MAX_ENTRIES
    this.maxAge = init.maxAge ?? DEDUPE_MAX_AGE
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new TypeError(`dedupe.maxEntries must be an integer >= 1, got ${this.maxEntries}`)
    }
    if (typeof this.maxAge !== 'number' || !(this.maxAge > 0)) {
      throw new TypeError(`dedupe.maxAge must be a number of ms > 0, got ${this.maxAge}`)
    }
    this.store = init.store
  }

  get size(): number {
    return this.seen.size
  }

  /** Loads what the store kept, dropping what is too old or beyond the count. */
  async open(): Promise<void> {
    if (this.opened) return
    if (this.store != null) {
      const loaded = await this.store.open()
      const records: Array<[string, number]> = []
      for await (const entry of loaded) records.push([entry.id, entry.createdAt])
      records.sort((a, b) => a[1] - b[1])
      for (const [key, at] of records) this.seen.set(key, at)
      this.prune()
      if (this.pending.size > 0) await this.flush()
    }
    this.opened = true
  }

  has(key: string): boolean {
    const at = this.seen.get(key)
    if (at == null) return false
    if (this.clock.now() - at <= this.maxAge) return true
    this.prune()
    return false
  }

  /** Remembers `key`; resolves when it is durable (at once without a store). */
  add(key: string, record: { peer: string; protocol: string }): Promise<void> {
    const at = this.clock.now()
    this.seen.delete(key)
    this.seen.set(key, at)
    this.prune()
    if (this.store == null) return Promise.resolve()
    const entry: Entry = {
      id: key,
      peer: record.peer,
      protocol: record.protocol,
      payload: EMPTY,
      level: DEDUPE_LEVEL,
      attempts: 0,
      createdAt: at,
      nextAttemptAt: at
    }
    this.pending.set(key, entry)
    return this.flush()
  }

  /** Waits for pending writes, then closes the store. */
  async close(): Promise<void> {
    if (!this.opened) return
    this.opened = false
    while (this.writing != null) await this.writing.catch(() => {})
    await this.store?.close()
  }

  private prune(): void {
    const oldest = this.clock.now() - this.maxAge
    for (const [key, at] of this.seen) {
      if (this.seen.size <= this.maxEntries && at >= oldest) break
      this.seen.delete(key)
      if (this.store != null) this.pending.set(key, null)
    }
  }

  private flush(): Promise<void> {
    if (this.next != null) return this.next.promise
    const next = deferred()
    this.next = next
    // additions of the same tick share the batch
    if (this.writing == null) queueMicrotask(() => this.write())
    return next.promise
  }

  private write(): void {
    if (this.writing != null || this.next == null) return
    const changes = this.pending
    const done = this.next as Deferred
    this.pending = new Map()
    this.next = undefined
    const put: Entry[] = []
    const remove: string[] = []
    for (const [key, entry] of changes) {
      if (entry == null) remove.push(key)
      else put.push(entry)
    }
    this.writing = (this.store as Store)
      .apply({ put, delete: remove })
      .then(done.resolve, done.reject)
    this.writing.finally(() => {
      this.writing = undefined
      if (this.next != null) this.write()
    })
  }
}

import type { Entry, Store } from '@dntkit/core'

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
 * Writes a dedupe window's changes behind it with group commit: at most one
 * `apply` in flight, the next gathering everything that arrived meanwhile
 * (the latest change of a key wins). `flush()` resolves once every change
 * made before it is durable.
 */
export class DedupeStoreWriter {
  /** key -> record to put, or null to delete. */
  private pending = new Map<string, Entry | null>()
  private next: Deferred | undefined
  private writing: Promise<void> | undefined

  constructor(private readonly store: Store) {}

  /** Changes waiting to be written. */
  get size(): number {
    return this.pending.size
  }

  put(entry: Entry): void {
    this.pending.set(entry.id, entry)
  }

  delete(key: string): void {
    this.pending.set(key, null)
  }

  /** Writes what is pending (with whatever arrives in the same tick); resolves when it is durable. */
  flush(): Promise<void> {
    if (this.next != null) return this.next.promise
    const next = deferred()
    this.next = next
    if (this.writing == null) queueMicrotask(() => this.write())
    return next.promise
  }

  /** Waits until no write is in flight. */
  async settle(): Promise<void> {
    while (this.writing != null) await this.writing.catch(() => {})
  }

  private write(): void {
    if (this.writing != null || this.next == null) return
    const changes = this.pending
    const done = this.next
    this.pending = new Map()
    this.next = undefined
    const put: Entry[] = []
    const remove: string[] = []
    for (const [key, entry] of changes) {
      if (entry == null) remove.push(key)
      else put.push(entry)
    }
    this.writing = this.store.apply({ put, delete: remove }).then(done.resolve, done.reject)
    this.writing.finally(() => {
      this.writing = undefined
      if (this.next != null) this.write()
    })
  }
}

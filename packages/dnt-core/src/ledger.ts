import { describeError, StoreUnavailableError } from './errors.js'
import type { PendingEntry } from './pending-entry.js'
import type { Entry, Store } from './types.js'

interface Waiter {
  resolve(): void
  reject(error: unknown): void
}

/**
 * The state one id must reach in the store: the entry as it is now, or gone,
 * or (`recreate`) the stored copy gone and this entry put anew, at the end.
 */
interface Change {
  entry: PendingEntry
  remove: boolean
  recreate: boolean
  /** Bumped by every new wish for this id, so that writing an older one does not settle it. */
  version: number
  waiters: Waiter[] | undefined
}

/** What the ledger tells its owner about the store. */
export interface LedgerEvents {
  /** A batch failed; nothing more is written until `retry()`. */
  onWriteFailed(error: unknown): void
  /** A batch landed (after a failure: the store recovered). */
  onWriteSucceeded(): void
}

/**
 * What the store must hold, and the one writer that gets it there.
 *
 * Each `put` or `delete` is a wish for one id's final state; a newer wish for an
 * id replaces an older one that is not written yet, so a delete can never
 * remove a later put of the same id, and an entry put and deleted before its
 * batch left costs the store nothing. At most one `Store.apply` is in flight;
 * the next batch gathers every wish made meanwhile, puts in the order their ids
 * were first wished since they were last written (the order the outbox
 * accepted them, which is the order `open()` gives back). A batch that fails is
 * not dropped: its wishes stay and are written again, after `retry()`; every
 * caller waiting on a wish not yet durable is told of the failure at once.
 */
export class Ledger {
  private readonly pending = new Map<string, Change>()
  private running: Promise<void> | undefined
  private halted = false
  private idleWaiters: Array<() => void> = []
  private outcomeWaiters: Array<(outcome: 'idle' | 'failed') => void> = []
  /** Waiters of the batch being written (taken from their changes when it left). */
  private writingWaiters: Waiter[] = []
  private detached = false
  /** Batches applied so far. */
  batches = 0

  constructor(
    private readonly store: Store,
    private readonly events: LedgerEvents
  ) {}

  /** Wishes not yet durable (being written included). */
  get size(): number {
    return this.pending.size
  }

  /** True after a failed batch, until a retry lands. */
  get failing(): boolean {
    return this.halted
  }

  /**
   * Wishes `entry` in the store as it is when its batch is written; resolves
   * once durable. With `recreate`, a stored copy of the id is replaced by a
   * new record at the end of the store's order (a requeued dead letter).
   */
  put(entry: PendingEntry, options: { recreate?: boolean } = {}): Promise<void> {
    if (this.detached) {
      return Promise.reject(
        new StoreUnavailableError('the store was given up on when the outbox stopped')
      )
    }
    return new Promise<void>((resolve, reject) => {
      this.wish(entry, options.recreate === true ? 'recreate' : 'put', { resolve, reject })
    })
  }

  /** `put` for callers that do not wait: the wish stays until it lands. */
  putLater(entry: PendingEntry): void {
    this.wish(entry, 'put')
  }

  /** Wishes the entry's id gone from the store (a no-op when it never reached it). */
  delete(entry: PendingEntry): void {
    this.removal(entry)
  }

  /** `delete`, resolving once the removal is durable (at once when there is nothing to remove). */
  remove(entry: PendingEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (!this.removal(entry, { resolve, reject })) resolve()
    })
  }

  /** Wishes the removal; returns false when there was nothing to remove. */
  private removal(entry: PendingEntry, waiter?: Waiter): boolean {
    const change = this.pending.get(entry.id)
    if (!entry.stored && (change === undefined || !change.entry.stored)) {
      // never written, and not being written: forgetting the put is enough
      if (change !== undefined) {
        this.pending.delete(entry.id)
        for (const waiter of change.waiters ?? []) waiter.resolve()
      }
      this.settleIdle()
      return false
    }
    this.wish(entry, 'remove', waiter)
    return true
  }

  /** Writes again after a failure. */
  retry(): void {
    this.halted = false
    this.kick()
  }

  /** Resolves when nothing is pending nor being written. */
  idle(): Promise<void> {
    if (this.pending.size === 0 && this.running === undefined) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Resolves `idle` when nothing is left to write, or `failed` when the next batch fails. */
  settle(): Promise<'idle' | 'failed'> {
    if (this.pending.size === 0 && this.running === undefined) return Promise.resolve('idle')
    return new Promise((resolve) => this.outcomeWaiters.push(resolve))
  }

  /**
   * Gives up on the store (it hung past the outbox's stop bound): what is
   * pending is forgotten, and a write that completes later changes nothing.
   * Returns how many wishes were not written.
   */
  detach(): number {
    const lost = this.pending.size
    this.detached = true
    const failure = new StoreUnavailableError(
      'the store did not finish writing before the outbox stopped; this change was not written'
    )
    for (const waiter of this.writingWaiters.splice(0)) waiter.reject(failure)
    for (const change of this.pending.values()) {
      for (const waiter of change.waiters ?? []) waiter.reject(failure)
    }
    this.pending.clear()
    this.halted = true
    this.settleIdle()
    return lost
  }

  /** Records the wish (and its waiter) first, then starts a batch if none is in flight. */
  private wish(entry: PendingEntry, kind: 'put' | 'remove' | 'recreate', waiter?: Waiter): void {
    if (this.detached) return
    let change = this.pending.get(entry.id)
    // a stored copy of this id must go before this entry is put: a new message under an old id,
    // or a requeued dead letter, goes to the end of the store's order, as it does in memory
    // (a recreate stays with the entry that asked for it; another entry's put, a rollback, goes in place)
    const replaces =
      kind === 'recreate' ||
      (kind === 'put' &&
        change !== undefined &&
        change.entry.stored &&
        (change.remove || (change.recreate && change.entry === entry)))
    if (change === undefined) {
      change = {
        entry,
        remove: kind === 'remove',
        recreate: kind === 'recreate',
        version: 0,
        waiters: undefined
      }
      this.pending.set(entry.id, change)
    } else {
      // a replacement entry object for the same id inherits "may be in the store"
      if (change.entry !== entry && change.entry.stored) entry.stored = true
      change.entry = entry
      change.remove = kind === 'remove'
      change.recreate = replaces
      change.version++
      if (replaces) {
        this.pending.delete(entry.id)
        this.pending.set(entry.id, change)
      }
    }
    if (waiter !== undefined) {
      change.waiters ??= []
      change.waiters.push(waiter)
    }
    this.kick()
  }

  private kick(): void {
    if (this.running !== undefined || this.halted) return
    if (this.pending.size === 0) {
      this.settleIdle()
      return
    }
    this.running = this.write().finally(() => {
      this.running = undefined
      this.kick()
    })
  }

  private settleIdle(): void {
    if (this.pending.size !== 0 || (this.running !== undefined && !this.detached)) return
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const resolve of waiters) resolve()
    this.tellOutcome('idle')
  }

  private tellOutcome(outcome: 'idle' | 'failed'): void {
    const waiters = this.outcomeWaiters
    this.outcomeWaiters = []
    for (const resolve of waiters) resolve(outcome)
  }

  private async write(): Promise<void> {
    const put: Entry[] = []
    const remove: string[] = []
    const written: Array<{ change: Change; version: number; waiters: Waiter[] | undefined }> = []
    for (const change of this.pending.values()) {
      written.push({ change, version: change.version, waiters: change.waiters })
      // wishes made from now on wait for the next batch
      change.waiters = undefined
      if (change.remove || change.recreate) remove.push(change.entry.id)
      if (!change.remove) {
        put.push(change.entry.toEntry())
        // from here on the store may hold it, whatever this batch's outcome
        change.entry.stored = true
      }
    }
    this.writingWaiters = written.flatMap(({ waiters }) => waiters ?? [])
    try {
      await this.store.apply({ put, delete: remove })
    } catch (error) {
      if (this.detached) return
      this.writingWaiters = []
      this.halted = true
      const failure = new StoreUnavailableError(`store write failed: ${describeError(error)}`, {
        cause: error
      })
      for (const { waiters } of written) for (const waiter of waiters ?? []) waiter.reject(failure)
      // whoever waits for a later wish hears it now too; the wishes themselves stay and are retried
      for (const change of this.pending.values()) {
        const waiters = change.waiters
        change.waiters = undefined
        for (const waiter of waiters ?? []) waiter.reject(failure)
      }
      this.events.onWriteFailed(error)
      this.tellOutcome('failed')
      return
    }
    if (this.detached) return
    this.writingWaiters = []
    this.batches++
    for (const { change, version } of written) {
      if (change.version !== version || this.pending.get(change.entry.id) !== change) continue
      this.pending.delete(change.entry.id)
      if (change.remove) change.entry.stored = false
    }
    this.events.onWriteSucceeded()
    for (const { waiters } of written) for (const waiter of waiters ?? []) waiter.resolve()
  }
}

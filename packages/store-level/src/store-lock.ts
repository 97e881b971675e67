import { type Logger, StoreClosedError } from '@dntkit/core'
import { lockName } from './database.js'
import type { LevelDatabase, ResolvedInit } from './init.js'
import type { HeldLock, Platform } from './platform.js'

/**
 * The cross-context lock of one store: taken before the store first reads its
 * database, held while it is open (a reopen after a failed write keeps it),
 * let go by `close()` or a failed `open()`. Web Locks in browsers; in Node the
 * database locks itself and this does nothing.
 */
export class StoreLock {
  private held: HeldLock | undefined
  /** Aborted by `abandon()`: every `open()` begun before it gives up waiting. */
  private opens = new AbortController()

  constructor(
    private readonly platform: Platform,
    private readonly init: ResolvedInit,
    private readonly log: Logger
  ) {}

  /** The signal an `open()` called now waits under: `abandon()` aborts it. */
  get signal(): AbortSignal {
    return this.opens.signal
  }

  /**
   * Takes the lock for the store's sublevel of `db`, unless held already;
   * `signal` (from `this.signal` when the `open()` was called) aborting
   * while it waits rejects with `StoreClosedError`.
   */
  async take(db: LevelDatabase, signal: AbortSignal): Promise<void> {
    const { lock, prefix, where } = this.init
    const acquire = this.platform.acquireLock
    if (this.held !== undefined || lock === 'none' || acquire === undefined) return
    const name = lockName(db, prefix)
    if (name === undefined) return
    this.held = await acquire(name, lock, { signal, where })
    this.log('%s: holds the lock "%s"', where, name)
  }

  /** Makes every `open()` called so far stop waiting for the lock (`close()` was called). */
  abandon(): void {
    this.opens.abort(new StoreClosedError(`${this.init.where} was closed`))
    this.opens = new AbortController()
  }

  release(): void {
    this.held?.release()
    this.held = undefined
  }
}

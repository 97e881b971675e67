import type { AbstractLevel } from 'abstract-level'

/** The root of a database, binary keys and values. */
export type RootDatabase = AbstractLevel<unknown, Uint8Array, Uint8Array>

/**
 * How a second opener of the same store is met, in a browser: `fail` (the
 * default) rejects `open()` with `StoreLockedError` at once; `wait` waits
 * until the holder closes (or its tab goes away) and opens then; `none` takes
 * no lock, for an application that guarantees one writer itself.
 */
export type LockMode = 'fail' | 'wait' | 'none'

/** A lock held for an open store. */
export interface HeldLock {
  /** Lets the next opener in. Idempotent. */
  release(): void
}

/** What differs between Node and browsers: which database a `location` opens, and how a store is locked. */
export interface Platform {
  /** Creates (without opening) the database the store owns at `location`. */
  createDatabase(location: string, where: string): Promise<RootDatabase>
  /**
   * Checks `mode` at `levelStore()` time; returns the mode to use, or throws
   * `TypeError` naming the option when this platform cannot honour it.
   * `lockable`: the store's database has a location, so it can be shared
   * (not a memory-level database).
   */
  resolveLock(mode: LockMode | undefined, lockable: boolean): LockMode
  /**
   * Takes the cross-context lock `name` before the store opens. Rejects with
   * `StoreLockedError` (`fail`) or, when `signal` aborts while waiting
   * (`wait`), with `StoreClosedError`. Absent where the database locks itself.
   */
  acquireLock?(
    name: string,
    mode: Exclude<LockMode, 'none'>,
    options: { signal: AbortSignal; where: string }
  ): Promise<HeldLock>
  /**
   * Rebuilds the database at `location` from every table and log its engine
   * can still read (LevelDB's own repair). Absent where the engine has none.
   */
  repairDatabase?(location: string): Promise<void>
}

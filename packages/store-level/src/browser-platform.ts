import { binary } from './database.js'
import type { LevelStoreInit } from './init.js'
import { createLevelStore } from './level-store.js'
import type { LevelStore } from './level-store-api.js'
import type { LockMode, Platform, RootDatabase } from './platform.js'
import { acquireWebLock, webLocks } from './web-lock.js'

/** Browsers and workers: IndexedDB through browser-level, one writer per store through Web Locks. */
const browserPlatform: Platform = {
  async createDatabase(location) {
    const { BrowserLevel } = await import('browser-level')
    return new BrowserLevel<Uint8Array, Uint8Array>(location, binary) as unknown as RootDatabase
  },
  resolveLock(mode: LockMode | undefined, lockable: boolean): LockMode {
    const resolved = mode ?? 'fail'
    if (lockable && resolved !== 'none' && webLocks() === undefined) {
      throw new TypeError(
        `levelStore() option \`lock\` is "${resolved}", which needs Web Locks (navigator.locks), missing here (a page that is not a secure context: not https and not localhost?); pass lock: 'none' only if one tab or worker alone ever opens this store`
      )
    }
    return resolved
  },
  acquireLock(name, mode, options) {
    return acquireWebLock(webLocks()!, name, mode, options)
  }
}

/**
 * A `Store` on `abstract-level`, for browsers and workers: its own IndexedDB
 * database named `location` (browser-level), or a sublevel of an
 * application's database given as `db`. One key per entry in first-put
 * order, values AES-256-GCM sealed and bound to their key, each `apply` one
 * atomic batch.
 *
 * One writer across tabs and workers: `open()` takes a Web Lock named after
 * the database and sublevel and holds it until `close()` (or until the tab
 * goes away). Another holder makes `open()` reject with `StoreLockedError`,
 * or, with `lock: 'wait'`, wait for it; `close()` while waiting rejects that
 * `open()` with `StoreClosedError`.
 *
 * Throws `TypeError` at once for wrong options; `open()` rejects with
 * `StoreLockedError`, `StoreKeyMismatchError` or `StoreCorruptError`.
 */
export function levelStore(init: LevelStoreInit): LevelStore {
  return createLevelStore(init, browserPlatform)
}

import { StoreCorruptError } from '@dntkit/core'
import { openInApplicationDatabase, openOwnDatabase, type StoreDatabase } from './database.js'
import type { ResolvedInit } from './init.js'
import type { Platform } from './platform.js'
import { COPY_ATTEMPTS, copyDatabase, type DatabaseCopy, nodeHost } from './read-only-copy.js'
import { openSublevelForReading } from './read-only-database.js'
import type { StoreLock } from './store-lock.js'

/** An opened database, and the private copy it is (read-only opens of a `location` in Node). */
export interface OpenedDatabase {
  database: StoreDatabase
  copy?: DatabaseCopy
}

/**
 * The database a store reads and writes: its own at `location` (which
 * database that is, the platform decides), a sublevel of the application's
 * `db`. A store that writes takes its cross-context lock first (Web Locks in
 * browsers; in Node LevelDB locks itself). Read-only, it never takes a lock a
 * writer would wait for: a private copy of the own database (in Node; in
 * browsers the database itself, which IndexedDB shares) or an unregistered
 * sublevel. `undefined` for a read-only open where there is no database yet:
 * nothing is created.
 */
export async function openDatabase(
  init: ResolvedInit,
  platform: Platform,
  lock: StoreLock,
  signal: AbortSignal
): Promise<OpenedDatabase | undefined> {
  const { location, db, prefix, where, readOnly } = init
  if (location === undefined) {
    if (readOnly) return { database: await openSublevelForReading(db!, prefix, where) }
    await lock.take(db!, signal)
    return { database: await openInApplicationDatabase(db!, prefix, where) }
  }
  const host = readOnly ? nodeHost() : undefined
  if (host === undefined) {
    const own = await platform.createDatabase(location, where)
    if (!readOnly) await lock.take(own, signal)
    return { database: await openOwnDatabase(own, prefix, where) }
  }
  for (let attempt = 1; ; attempt++) {
    const copy = await copyDatabase(host, location)
    if (copy === undefined) return undefined
    try {
      const database = await openOwnDatabase(
        await platform.createDatabase(copy.path, where),
        prefix,
        where
      )
      return { database, copy }
    } catch (error) {
      await copy.remove().catch(() => undefined)
      // a copy taken while a writer compacted may miss a table: take it again
      if (!StoreCorruptError.isInstance(error) || attempt >= COPY_ATTEMPTS) throw error
    }
  }
}

import { StoreCorruptError } from '@dntkit/core'
import { openInApplicationDatabase, openOwnDatabase, type StoreDatabase } from './database.js'
import type { ResolvedInit } from './init.js'
import { COPY_ATTEMPTS, copyDatabase, type DatabaseCopy, nodeHost } from './read-only-copy.js'
import { openSublevelForReading } from './read-only-database.js'

/** An opened database, and the private copy it is (read-only opens of a `location` in Node). */
export interface OpenedDatabase {
  database: StoreDatabase
  copy?: DatabaseCopy
}

/**
 * The database a store reads and writes: its own at `location`, a sublevel of
 * the application's `db`; read-only, a private copy of the own one (in Node;
 * elsewhere the database itself) or an unregistered sublevel. `undefined`
 * for a read-only open where there is no database yet: nothing is created.
 */
export async function openDatabase(init: ResolvedInit): Promise<OpenedDatabase | undefined> {
  const { location, db, prefix, where, readOnly } = init
  if (location === undefined) {
    const database = readOnly
      ? await openSublevelForReading(db!, prefix, where)
      : await openInApplicationDatabase(db!, prefix, where)
    return { database }
  }
  const host = readOnly ? nodeHost() : undefined
  if (host === undefined) return { database: await openOwnDatabase(location, prefix, where) }
  for (let attempt = 1; ; attempt++) {
    const copy = await copyDatabase(host, location)
    if (copy === undefined) return undefined
    try {
      return { database: await openOwnDatabase(copy.path, prefix, where), copy }
    } catch (error) {
      await copy.remove().catch(() => undefined)
      // a copy taken while a writer compacted may miss a table: take it again
      if (!StoreCorruptError.isInstance(error) || attempt >= COPY_ATTEMPTS) throw error
    }
  }
}

import { StoreReadOnlyError } from '@dntkit/core'
import type { Namespace, StoreDatabase } from './database.js'
import type { LevelDatabase } from './init.js'

const binary = { keyEncoding: 'view', valueEncoding: 'view' } as const

/**
 * The store's sublevel of an application's database, for reading only: it
 * is not registered as held, so a writer store of this process may have (or
 * take) the same sublevel meanwhile; `write` refuses; `release` closes only
 * this sublevel instance, never the application's database.
 */
export async function openSublevelForReading(
  db: LevelDatabase,
  prefix: string,
  where: string
): Promise<StoreDatabase> {
  const sublevel = db.sublevel<Uint8Array, Uint8Array>(prefix, binary)
  try {
    await sublevel.open()
  } catch (error) {
    throw new Error(
      `${where} cannot open: ${(error as Error).message} (the given database is ${db.status})`,
      { cause: error }
    )
  }
  return {
    namespace: sublevel as unknown as Namespace,
    async write() {
      throw new StoreReadOnlyError(`${where} was opened read-only: it never writes`)
    },
    release: () => sublevel.close()
  }
}

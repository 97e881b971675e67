import { binary } from './database.js'
import type { LevelStoreInit } from './init.js'
import { createLevelStore } from './level-store.js'
import type { LevelStore } from './level-store-api.js'
import type { LockMode, Platform, RootDatabase } from './platform.js'

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    String((error as Error).message).includes('classic-level')
  )
}

/** classic-level, loaded the first time a store needs it (an optional peer dependency). */
async function classicLevel(where: string): Promise<typeof import('classic-level')> {
  try {
    return await import('classic-level')
  } catch (error) {
    if (!isMissing(error)) throw error
    throw new Error(
      `${where}: a \`location\` opens LevelDB through the package classic-level, an optional peer dependency that is not installed: run \`npm install classic-level\`, or pass your own database as \`db\``,
      { cause: error }
    )
  }
}

/** Node: LevelDB through classic-level, whose lock file keeps out every other opener at once. */
export const nodePlatform: Platform = {
  async createDatabase(location, where) {
    const module = await classicLevel(where)
    return new module.ClassicLevel<Uint8Array, Uint8Array>(
      location,
      binary
    ) as unknown as RootDatabase
  },
  async repairDatabase(location) {
    const module = await classicLevel(`level store at "${location}"`)
    await module.ClassicLevel.repair(location)
  },
  resolveLock(mode: LockMode | undefined): LockMode {
    if (mode === undefined || mode === 'fail') return 'fail'
    throw new TypeError(
      `levelStore() option \`lock\` is "${mode}", which is for browsers (Web Locks); in Node a second opener always fails at once with StoreLockedError (LevelDB's lock file), so \`lock\` may only be "fail"`
    )
  }
}

/**
 * A `Store` on `abstract-level`, for Node: its own LevelDB at `location`
 * (classic-level, an optional peer dependency: install it to use
 * `location`), or a sublevel of an application's database given as `db`
 * (then classic-level is never loaded). One key per entry in first-put order,
 * values AES-256-GCM sealed and bound to their key, each `apply` one atomic
 * `batch` written with `sync: true`.
 *
 * In a browser bundle (the `browser` export condition) the same function
 * opens IndexedDB through browser-level and takes a Web Lock instead.
 *
 * Throws `TypeError` at once for wrong options; `open()` rejects with
 * `StoreLockedError`, `StoreKeyMismatchError` or `StoreCorruptError`.
 */
export function levelStore(init: LevelStoreInit): LevelStore {
  return createLevelStore(init, nodePlatform)
}

import { StoreCorruptError, type StoreRepairReport } from '@dntkit/core'
import { type LevelStoreInit, resolveInit } from './init.js'
import { createLevelStore, setAsideByLastOpen } from './level-store.js'
import { nodePlatform } from './node-platform.js'
import type { Platform } from './platform.js'
import { keepDatabaseAside, nodeHost } from './read-only-copy.js'

/** Options of `repairLevelStore()`: the store's options, as for `levelStore()`. */
export type RepairLevelStoreInit = Omit<LevelStoreInit, 'readOnly' | 'onCorrupt' | 'quarantine'>

function levelCorruption(error: unknown): boolean {
  for (let current = error, depth = 0; current != null && depth < 5; depth++) {
    if ((current as { code?: unknown }).code === 'LEVEL_CORRUPTION') return true
    current = (current as { cause?: unknown }).cause
  }
  return false
}

/**
 * Repairs a level store: values that fail authentication or decoding are
 * moved under `q` + their key (kept in the database, listed by
 * `quarantined()`), the others stay. When LevelDB itself reports corruption
 * (a store of its own, in Node), the database directory is first copied
 * whole to `<location>.corrupt-<time>`, then LevelDB's repair rebuilds it
 * from every table and log it can read (what it cannot use goes to its
 * `lost/` directory). A store without damage is left as it is (`repaired:
 * false`). The store must not be open elsewhere (`StoreLockedError`); a
 * wrong key is `StoreKeyMismatchError` with nothing changed.
 */
export function repairLevelStore(init: RepairLevelStoreInit): Promise<StoreRepairReport> {
  return repairOnPlatform(init, nodePlatform)
}

/** `repairLevelStore()` on a given platform (its own database's engine decides what repair can do). */
export async function repairOnPlatform(
  init: RepairLevelStoreInit,
  platform: Platform
): Promise<StoreRepairReport> {
  const options = { ...init, onCorrupt: 'quarantine' as const }
  // wrong options fail here, before anything is opened
  const { where } = resolveInit(options, platform)
  let movedTo: string | undefined
  let rebuilt = false
  const open = async () => {
    const store = createLevelStore(options, platform)
    const entries = await store.open()
    await store.close()
    return { entries, setAside: setAsideByLastOpen(store) }
  }
  let opened: Awaited<ReturnType<typeof open>>
  try {
    opened = await open()
  } catch (error) {
    const host = nodeHost()
    if (!StoreCorruptError.isInstance(error) || !levelCorruption(error)) throw error
    const { repairDatabase } = platform
    if (init.location === undefined || repairDatabase === undefined || host === undefined) {
      throw error
    }
    movedTo = await keepDatabaseAside(host, init.location)
    await repairDatabase(init.location)
    rebuilt = true
    opened = await open()
  }
  const lost = opened.setAside.map((value) => ({
    key: value.key,
    reason: `${value.problem}; kept under q:${value.key}`
  }))
  if (rebuilt) {
    lost.unshift({
      key: '',
      reason: `LevelDB reported corruption: rebuilt by its repair from what it could read (the damaged database is kept in ${movedTo})`
    })
  }
  const repaired = rebuilt || lost.length > 0
  return {
    store: where,
    repaired,
    entries: opened.entries.length,
    files: repaired
      ? [
          {
            file: where,
            ...(movedTo === undefined ? {} : { movedTo }),
            missing: false,
            kept: opened.entries.length,
            lost: lost.map((item) => (item.key === '' ? { reason: item.reason } : item))
          }
        ]
      : [],
    undecodable: []
  }
}

import type { Entry, Store } from '@dntkit/core'
import { withContext } from './errors.js'
import type { Identity } from './key-file.js'
import { createStore } from './open-store.js'
import { checkStoreLocation, type StoreLocation } from './store-uri.js'

/** An open store and what it held when it was opened. */
export interface OpenStore {
  store: Store
  entries: Entry[]
}

/**
 * Opens the store at `location`, runs `work` with it and closes it, whatever
 * happens. Open failures (corrupt, wrong key, locked) become one-line errors
 * that name the URI and exit 1. With `createIfMissing: false`, a store that
 * does not exist yet is not created: `work` sees it empty and without a store.
 */
export async function withStore<T>(
  location: StoreLocation,
  identity: Identity,
  flag: string,
  work: (opened: OpenStore | undefined) => Promise<T>,
  options: { createIfMissing: boolean } = { createIfMissing: false }
): Promise<T> {
  const { exists } = checkStoreLocation(location, flag)
  if (!exists && !options.createIfMissing) return work(undefined)
  const context = `${flag} ${location.uri}`
  let store: Store | undefined
  const entries: Entry[] = []
  try {
    store = await createStore(location, identity.raw)
    const opened = await store.open()
    for await (const entry of opened) entries.push(entry)
  } catch (error) {
    await store?.close().catch(() => {})
    throw withContext(`cannot open ${context}`, error)
  }
  let result: T
  try {
    result = await work({ store, entries })
  } catch (error) {
    await store.close().catch(() => {})
    throw error
  }
  try {
    await store.close()
  } catch (error) {
    throw withContext(`cannot close ${context}`, error)
  }
  return result
}

/** Queued entries (dead letters aside). */
export function queuedOf(entries: Entry[]): Entry[] {
  return entries.filter((entry) => entry.deadLetter === undefined)
}

/** Dead-lettered entries. */
export function deadOf(entries: Entry[]): Entry[] {
  return entries.filter((entry) => entry.deadLetter !== undefined)
}

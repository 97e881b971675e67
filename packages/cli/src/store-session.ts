import { type Entry, Outbox, PeerUnreachableError, type Store, type Transport } from '@dntkit/core'
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

/** Dead-lettered entries. */
export function deadOf(entries: Entry[]): Entry[] {
  return entries.filter((entry) => entry.deadLetter !== undefined)
}

/** The transport of an outbox that only reads and edits a queue: it never delivers. */
const NO_DELIVERY: Transport = {
  async deliver() {
    throw new PeerUnreachableError('this command does not deliver')
  }
}

/**
 * Opens the store at `location` through a paused `Outbox` (the queue exactly as
 * the library sees it: `entries()`, `deadLetters()`, `stats()`, `purge()`,
 * `requeue()`; nothing is delivered), runs `work` and stops it. A store that
 * does not exist is not created: `work` gets `undefined`.
 */
export async function withQueue<T>(
  location: StoreLocation,
  identity: Identity,
  flag: string,
  work: (outbox: Outbox | undefined) => Promise<T>
): Promise<T> {
  const { exists } = checkStoreLocation(location, flag)
  if (!exists) return work(undefined)
  const context = `${flag} ${location.uri}`
  const outbox = new Outbox({
    store: await createStore(location, identity.raw),
    transport: NO_DELIVERY,
    paused: true
  })
  try {
    await outbox.start()
  } catch (error) {
    throw withContext(`cannot open ${context}`, error)
  }
  let result: T
  try {
    result = await work(outbox)
  } catch (error) {
    await outbox.stop().catch(() => {})
    throw error
  }
  try {
    await outbox.stop()
  } catch (error) {
    throw withContext(`cannot close ${context}`, error)
  }
  return result
}

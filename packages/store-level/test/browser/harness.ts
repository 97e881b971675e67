// Loaded into Chromium by test/browser.spec.ts: drives level stores of this page through
// `window.harness`, with plain values in and out.
import type { Entry } from '@dntkit/core'
import { type LevelStore, type LevelStoreInit, levelStore } from '@dntkit/store-level'
import { BrowserLevel } from 'browser-level'
import { MemoryLevel } from 'memory-level'

/** How the test asks for a store: a location or an application database, a key byte, a lock mode. */
export interface StoreSpec {
  location?: string
  /** Name of an application IndexedDB database (browser-level) to pass as `db`. */
  appDatabase?: string
  /** Pass a fresh memory-level database as `db`. */
  memory?: boolean
  prefix?: string
  lock?: LevelStoreInit['lock']
  /** The store key is 32 bytes of this value. */
  keyByte: number
}

/** What an `open()` came to. */
export type Outcome =
  | { ids: string[] }
  | { error: { name: string; code?: string; message: string } }

const stores = new Map<string, LevelStore>()
const opening = new Map<string, Promise<Outcome>>()
const appDatabases = new Map<string, BrowserLevel<string, string>>()

function entry(id: string): Entry {
  return {
    id,
    peer: '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK',
    protocol: '/harness/1.0.0',
    payload: new TextEncoder().encode(`payload of ${id}`),
    level: 'critical',
    attempts: 0,
    createdAt: 1,
    nextAttemptAt: 1
  }
}

async function appDatabase(name: string): Promise<BrowserLevel<string, string>> {
  let db = appDatabases.get(name)
  if (db === undefined) {
    db = new BrowserLevel<string, string>(name)
    appDatabases.set(name, db)
    await db.open()
  }
  return db
}

async function outcome(open: Promise<Entry[]>): Promise<Outcome> {
  try {
    return { ids: (await open).map((each) => each.id) }
  } catch (error) {
    const { name, message, code } = error as Error & { code?: string }
    return { error: code === undefined ? { name, message } : { name, code, message } }
  }
}

const harness = {
  /** Makes store `handle` and starts opening it; `opened(handle)` tells how it went. */
  async startOpen(handle: string, spec: StoreSpec): Promise<void> {
    const init: LevelStoreInit = { key: new Uint8Array(32).fill(spec.keyByte) }
    if (spec.location !== undefined) init.location = spec.location
    if (spec.appDatabase !== undefined) init.db = await appDatabase(spec.appDatabase)
    if (spec.memory === true) init.db = new MemoryLevel()
    if (spec.prefix !== undefined) init.prefix = spec.prefix
    if (spec.lock !== undefined) init.lock = spec.lock
    let store: LevelStore
    try {
      store = levelStore(init)
    } catch (error) {
      // a TypeError from the options: reported like a failed open
      opening.set(handle, outcome(Promise.reject(error)))
      return
    }
    stores.set(handle, store)
    opening.set(handle, outcome(store.open()))
  },
  opened(handle: string): Promise<Outcome> {
    return opening.get(handle)!
  },
  async open(handle: string, spec: StoreSpec): Promise<Outcome> {
    await harness.startOpen(handle, spec)
    return harness.opened(handle)
  },
  /** Reopens a closed store (same object). */
  reopen(handle: string): Promise<Outcome> {
    const result = outcome(stores.get(handle)!.open())
    opening.set(handle, result)
    return result
  },
  async put(handle: string, ids: string[]): Promise<void> {
    await stores.get(handle)!.apply({ put: ids.map(entry) })
  },
  async close(handle: string): Promise<void> {
    await stores.get(handle)!.close()
  },
  /** From now on this page behaves as one without Web Locks (not a secure context). */
  hideWebLocks(): void {
    Object.defineProperty(Navigator.prototype, 'locks', {
      configurable: true,
      get: () => undefined
    })
  },
  /** Names of the Web Locks this origin holds and waits for. */
  async locks(): Promise<{ held: string[]; pending: string[] }> {
    const snapshot = await navigator.locks.query()
    const names = (list: LockInfo[] | undefined): string[] =>
      (list ?? []).map((lock) => lock.name ?? '')
    return { held: names(snapshot.held), pending: names(snapshot.pending) }
  }
}

;(globalThis as { harness?: typeof harness }).harness = harness

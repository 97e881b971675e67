import {
  type Entry,
  Outbox,
  PeerUnreachableError,
  type Store,
  StoreCorruptError,
  type Transport
} from '@dntkit/core'
import { type CliIo, note } from './command.js'
import { CommandFailedError, withContext } from './errors.js'
import type { Identity } from './key-file.js'
import { createStore, type StoreOpenOptions } from './open-store.js'
import { checkStoreLocation, type StoreLocation } from './store-uri.js'

/** An open store and what it held when it was opened. */
export interface OpenStore {
  store: Store
  entries: Entry[]
}

/** How a session opens its store. */
export interface SessionOptions extends StoreOpenOptions {
  /** Create a store that does not exist yet (default false: `work` sees none). */
  createIfMissing?: boolean
}

/** The one-line error of a store that does not open, with what to do about damage. */
export function openError(location: StoreLocation, flag: string, error: unknown): Error {
  const failure = withContext(`cannot open ${flag} ${location.uri}`, error)
  if (!StoreCorruptError.isInstance(error)) return failure
  return new CommandFailedError(
    `${failure.message} (see \`dnt repair --key FILE --store ${location.uri}\`)`,
    { cause: error }
  )
}

/**
 * Opens the store at `location`, runs `work` with it and closes it, whatever
 * happens. Open failures (corrupt, wrong key, locked) become one-line errors
 * that name the URI and exit 1; damage says where, how much still reads, and
 * that `dnt repair` exists. A store that does not exist yet is not created
 * (unless `createIfMissing`): `work` sees it empty and without a store.
 */
export async function withStore<T>(
  location: StoreLocation,
  identity: Identity,
  flag: string,
  work: (opened: OpenStore | undefined) => Promise<T>,
  options: SessionOptions = {}
): Promise<T> {
  const { exists } = checkStoreLocation(location, flag)
  if (!exists && options.createIfMissing !== true) return work(undefined)
  const context = `${flag} ${location.uri}`
  let store: Store | undefined
  const entries: Entry[] = []
  try {
    store = await createStore(location, identity.raw, options)
    const opened = await store.open()
    for await (const entry of opened) entries.push(entry)
  } catch (error) {
    await store?.close().catch(() => {})
    throw openError(location, flag, error)
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
 * does not exist is not created: `work` gets `undefined`. With `readOnly`
 * the store is opened read-only: nothing on disk changes.
 */
export async function withQueue<T>(
  location: StoreLocation,
  identity: Identity,
  flag: string,
  work: (outbox: Outbox | undefined) => Promise<T>,
  options: StoreOpenOptions = {}
): Promise<T> {
  const { exists } = checkStoreLocation(location, flag)
  if (!exists) return work(undefined)
  const context = `${flag} ${location.uri}`
  const outbox = new Outbox({
    store: await createStore(location, identity.raw, options),
    transport: NO_DELIVERY,
    paused: true
  })
  try {
    await outbox.start()
  } catch (error) {
    throw openError(location, flag, error)
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

/**
 * The options of a command that only reads: the store is opened read-only
 * (nothing on disk changes, no lock stops a running writer) and its warnings
 * (a torn tail left in place) go to stderr as `dnt COMMAND: warning: ...`.
 */
export function readOnly(io: CliIo, command: string): StoreOpenOptions {
  return { readOnly: true, ...warnings(io, command) }
}

/** The store's warnings (a torn tail cut off, a stale lock taken over) as `dnt COMMAND: warning: ...` on stderr. */
export function warnings(io: CliIo, command?: string): StoreOpenOptions {
  const prefix = command === undefined ? 'dnt' : `dnt ${command}`
  return { onWarning: (message) => note(io, `${prefix}: warning: ${message}`) }
}

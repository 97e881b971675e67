import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { StoreClosedError } from '../errors.js'
import { rejectUnknownOptions } from '../option-names.js'
import type { Entry, Store } from '../types.js'
import { pseudoRandomBytes, testEntry } from './fixtures.js'
import { readOnlyTests } from './store-suite-read-only.js'

/**
 * Makes a store on the location a suite run created; called again to "restart". With `readOnly:
 * true` (only when the suite's `readOnly` option is set) a read-only store on the same location.
 */
export type StoreFactory = (options?: { readOnly?: boolean }) => Store | Promise<Store>

/** How `storeSuite()` makes and removes the stores it tests. */
export interface StoreSuiteOptions {
  /** Prepares an empty location (a fresh directory, database, ...) and returns a factory of stores on it. */
  setup(): StoreFactory | Promise<StoreFactory>
  /** Removes what `setup` created; stores are closed before it runs. */
  teardown?(): void | Promise<void>
  /** Entries in the large-queue test (default 100,000). */
  largeQueueEntries?: number
  /** The factory makes read-only stores too (`factory({ readOnly: true })`): run their tests. */
  readOnly?: boolean
}

const isClosed = (error: unknown): boolean => StoreClosedError.isInstance(error)
const OPTION_NAMES = ['setup', 'teardown', 'largeQueueEntries', 'readOnly']

/** Every entry `open()` returned, whether an array or an async iterable. */
async function collect(opened: Entry[] | AsyncIterable<Entry>): Promise<Entry[]> {
  if (Array.isArray(opened)) return opened
  const entries: Entry[] = []
  for await (const entry of opened) entries.push(entry)
  return entries
}

/**
 * The `Store` contract as a vitest suite, run by every store implementation from its own test file:
 *
 * ```ts
 * storeSuite({ setup: async () => { dir = await mkdtemp(...); return () => fileStore({ directory: dir, privateKey }) } })
 * ```
 */
export function storeSuite(name: string, options: StoreSuiteOptions): void {
  rejectUnknownOptions(options, OPTION_NAMES, 'storeSuite()')
  describe(`Store contract: ${name}`, () => {
    let factory: StoreFactory
    const open: Store[] = []

    async function start(readOnly = false): Promise<{ store: Store; entries: Entry[] }> {
      const store = await (readOnly ? factory({ readOnly: true }) : factory())
      open.push(store)
      const entries = await collect(await store.open())
      return { store, entries }
    }

    /** Drops a store the test closed itself from the ones closed after it. */
    function forget(store: Store): void {
      open.splice(open.indexOf(store), 1)
    }

    async function restart(store: Store): Promise<{ store: Store; entries: Entry[] }> {
      await store.close()
      forget(store)
      return start()
    }

    beforeEach(async () => {
      factory = await options.setup()
    })

    afterEach(async () => {
      for (const store of open.splice(0)) await store.close().catch(() => {})
      await options.teardown?.()
    })

    it('opens empty', async () => {
      const { entries } = await start()
      expect(entries).toEqual([])
    })

    it('reopen returns exactly what was applied, in first-put order', async () => {
      const { store } = await start()
      const entries = [testEntry(), testEntry(), testEntry()]
      await store.apply({ put: entries.slice(0, 2) })
      await store.apply({ put: entries.slice(2) })
      const reopened = await restart(store)
      expect(reopened.entries).toEqual(entries)
    })

    it('deletes, and ignores deletes of unknown ids', async () => {
      const { store } = await start()
      const [a, b, c] = [testEntry(), testEntry(), testEntry()]
      await store.apply({ put: [a, b, c] })
      await store.apply({ delete: [b.id, 'no-such-id'] })
      const reopened = await restart(store)
      expect(reopened.entries).toEqual([a, c])
    })

    it('a put of an existing id replaces the entry and keeps its position', async () => {
      const { store } = await start()
      const [a, b] = [testEntry(), testEntry()]
      await store.apply({ put: [a, b] })
      const changed = { ...a, attempts: 7, lastError: 'PeerUnreachableError: refused' }
      await store.apply({ put: [changed] })
      const reopened = await restart(store)
      expect(reopened.entries).toEqual([changed, b])
    })

    it('puts and deletes of one batch apply together', async () => {
      const { store } = await start()
      const [a, b, c] = [testEntry(), testEntry(), testEntry()]
      await store.apply({ put: [a, b] })
      await store.apply({ put: [c], delete: [a.id] })
      const reopened = await restart(store)
      expect(reopened.entries).toEqual([b, c])
    })

    it('keeps an entry that holds a reply (delivered), and a dead letter, field for field', async () => {
      const { store } = await start()
      const answered = testEntry({
        delivered: { at: 1_700_000_000_123, reply: pseudoRandomBytes(300, 9) }
      })
      const dead = testEntry({ deadLetter: { reason: 'undeliverable', at: 1_700_000_000_456 } })
      await store.apply({ put: [answered, dead] })
      const reopened = await restart(store)
      expect(reopened.entries).toEqual([answered, dead])
    })

    it('an id both deleted and put in one batch is replaced and moves to the end', async () => {
      const { store } = await start()
      const [a, b, c] = [testEntry(), testEntry(), testEntry()]
      await store.apply({ put: [a, b, c] })
      const requeued = { ...a, attempts: 0, deadLetter: undefined }
      delete requeued.deadLetter
      await store.apply({ delete: [a.id], put: [requeued] })
      const reopened = await restart(store)
      expect(reopened.entries).toEqual([b, c, requeued])
    })

    it('rejects an invalid batch with TypeError and applies none of it', async () => {
      const { store } = await start()
      const good = testEntry()
      const bad = { ...testEntry(), payload: 'not bytes' } as unknown as Entry
      await expect(store.apply({ put: [good, bad] })).rejects.toThrow(TypeError)
      await expect(store.apply({ put: [good], delete: [42 as unknown as string] })).rejects.toThrow(
        TypeError
      )
      const reopened = await restart(store)
      expect(reopened.entries).toEqual([])
    })

    it('keeps binary payloads from 0 bytes to 4 MiB and every byte value', async () => {
      const { store } = await start()
      const everyByte = Uint8Array.from({ length: 256 }, (_, index) => index)
      const entries = [
        testEntry({ payload: new Uint8Array(0) }),
        testEntry({ payload: everyByte }),
        testEntry({ payload: pseudoRandomBytes(4 * 1024 * 1024, 7) })
      ]
      await store.apply({ put: entries })
      const reopened = await restart(store)
      expect(reopened.entries.length).toBe(3)
      reopened.entries.forEach((entry, index) => {
        expect(entry.payload).toBeInstanceOf(Uint8Array)
        expect(Buffer.from(entry.payload).equals(Buffer.from(entries[index]!.payload))).toBe(true)
      })
    })

    it('round-trips every field: meta, addrs, attempts, times, lastError, dead letter', async () => {
      const { store } = await start()
      const full = testEntry({
        addrs: ['/ip4/127.0.0.1/tcp/4001', '/ip6/::1/tcp/4002'],
        meta: { did: 'did:example:1', dataType: 3, user: 'ünïcødé ✓', flag: true, none: null },
        attempts: 5,
        createdAt: 1_700_000_123_456,
        nextAttemptAt: 1_700_000_999_999,
        lastError: 'PeerUnreachableError: dial refused',
        level: 'moderate',
        protocol: '/app/create/1.0.0'
      })
      const dead = testEntry({ deadLetter: { reason: 'exhausted', at: 1_700_000_555_555 } })
      const expired = testEntry({ deadLetter: { reason: 'expired', at: 1_700_000_666_666 } })
      await store.apply({ put: [full, dead, expired] })
      const reopened = await restart(store)
      expect(reopened.entries).toEqual([full, dead, expired])
    })

    it('copies entries: changing an applied object afterwards changes nothing stored', async () => {
      const { store } = await start()
      const entry = testEntry({ meta: { user: 'a' } })
      await store.apply({ put: [entry] })
      const snapshot = { ...entry, payload: entry.payload.slice(), meta: { ...entry.meta } }
      entry.attempts = 99
      entry.payload[0] = (entry.payload[0]! + 1) & 0xff
      ;(entry.meta as Record<string, string>).user = 'b'
      const reopened = await restart(store)
      expect(reopened.entries).toEqual([snapshot])
    })

    it('serializes concurrent applies in call order', async () => {
      const { store } = await start()
      const entries = Array.from({ length: 50 }, () => testEntry())
      const calls: Promise<void>[] = []
      const deleted = new Set<string>()
      entries.forEach((entry, index) => {
        calls.push(store.apply({ put: [entry] }))
        // after every third put, delete the entry put just before it
        if (index % 3 === 2) {
          const previous = entries[index - 1]!.id
          deleted.add(previous)
          calls.push(store.apply({ delete: [previous] }))
        }
      })
      await Promise.all(calls)
      const expected = entries.filter((entry) => !deleted.has(entry.id))
      const reopened = await restart(store)
      expect(reopened.entries).toEqual(expected)
    })

    it('survives close/reopen cycles', async () => {
      let { store } = await start()
      const kept: Entry[] = []
      for (let cycle = 0; cycle < 5; cycle++) {
        const [a, b] = [testEntry(), testEntry()]
        await store.apply({ put: [a, b] })
        await store.apply({ delete: [a.id] })
        kept.push(b)
        const reopened = await restart(store)
        store = reopened.store
        expect(reopened.entries).toEqual(kept)
      }
    })

    it('rejects apply after close with StoreClosedError, and stores nothing of it', async () => {
      const { store } = await start()
      const kept = testEntry()
      await store.apply({ put: [kept] })
      await store.close()
      forget(store)
      await expect(store.apply({ put: [testEntry()] })).rejects.toSatisfy(isClosed)
      const reopened = await start()
      expect(reopened.entries).toEqual([kept])
    })

    it('runs calls in call order: an apply made while opening waits; one made after close is refused', async () => {
      const store = await factory()
      open.push(store)
      await expect(store.apply({ put: [testEntry()] })).rejects.toSatisfy(isClosed)
      const [first, second] = [testEntry(), testEntry()]
      const opening = store.open()
      const duringOpen = store.apply({ put: [first] })
      expect(await collect(await opening)).toEqual([])
      await duringOpen
      const beforeClose = store.apply({ put: [second] })
      const closing = store.close()
      const afterClose = store.apply({ put: [testEntry()] })
      await beforeClose
      await closing
      await expect(afterClose).rejects.toSatisfy(isClosed)
      // closing a closed store is a no-op
      await store.close()
      forget(store)
      const reopened = await start()
      expect(reopened.entries).toEqual([first, second])
    })

    if (options.readOnly === true) readOnlyTests({ start, restart, forget })

    const large = options.largeQueueEntries ?? 100_000
    it(`holds ${large} entries`, { timeout: 120_000 }, async () => {
      const { store } = await start()
      const batch = 10_000
      const first = testEntry()
      for (let offset = 0; offset < large; offset += batch) {
        const put: Entry[] = []
        for (let index = offset; index < Math.min(large, offset + batch); index++) {
          put.push(
            index === 0
              ? first
              : testEntry({
                  id: `large-${String(index).padStart(8, '0')}`,
                  payload: pseudoRandomBytes(32, index)
                })
          )
        }
        await store.apply({ put })
      }
      const reopened = await restart(store)
      expect(reopened.entries.length).toBe(large)
      expect(reopened.entries[0]).toEqual(first)
      expect(reopened.entries[large - 1]!.id).toBe(`large-${String(large - 1).padStart(8, '0')}`)
      for (let index = 2; index < large; index++) {
        if (reopened.entries[index - 1]!.id >= reopened.entries[index]!.id) {
          throw new Error(`order broken at ${index}`)
        }
      }
    })
  })
}

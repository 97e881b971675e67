import { expect, it } from 'vitest'
import { StoreReadOnlyError } from '../errors.js'
import type { Entry, Store } from '../types.js'
import { testEntry } from './fixtures.js'

/** What the read-only tests need from the suite that runs them. */
export interface SuiteContext {
  /** Makes a store with the suite's factory (read-only when asked) and opens it. */
  start(readOnly?: boolean): Promise<{ store: Store; entries: Entry[] }>
  /** Closes `store` and opens a new writer on the same location. */
  restart(store: Store): Promise<{ store: Store; entries: Entry[] }>
  /** Tells the suite a store the test closed itself needs no closing. */
  forget(store: Store): void
}

const isReadOnly = (error: unknown): boolean => StoreReadOnlyError.isInstance(error)

/** The tests of `readOnly: true`, part of `storeSuite` when its `readOnly` option is set. */
export function readOnlyTests({ start, restart, forget }: SuiteContext): void {
  it('read-only: reads what a writer left, refuses apply with StoreReadOnlyError, changes nothing', async () => {
    const { store } = await start()
    const entries = [testEntry(), testEntry({ deadLetter: { reason: 'rejected', at: 1 } })]
    await store.apply({ put: entries })
    await store.close()
    forget(store)
    const reader = await start(true)
    expect(reader.store.readOnly).toBe(true)
    expect(reader.entries).toEqual(entries)
    await expect(reader.store.apply({ put: [testEntry()] })).rejects.toSatisfy(isReadOnly)
    await expect(reader.store.apply({ delete: [entries[0]!.id] })).rejects.toSatisfy(isReadOnly)
    // an invalid batch is still a TypeError first
    await expect(reader.store.apply({ put: [42 as unknown as Entry] })).rejects.toThrow(TypeError)
    await reader.store.close()
    forget(reader.store)
    const writer = await start()
    expect(writer.entries).toEqual(entries)
    const later = testEntry()
    await writer.store.apply({ put: [later] })
    const reopened = await restart(writer.store)
    expect(reopened.entries).toEqual([...entries, later])
  })

  it('read-only: a store that was never written opens empty, and a writer opens it afterwards', async () => {
    const reader = await start(true)
    expect(reader.entries).toEqual([])
    await reader.store.close()
    forget(reader.store)
    const writer = await start()
    expect(writer.entries).toEqual([])
    const entry = testEntry()
    await writer.store.apply({ put: [entry] })
    expect((await restart(writer.store)).entries).toEqual([entry])
  })
}

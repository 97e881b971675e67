import { describe, expect, it } from 'vitest'
import {
  type Entry,
  memoryStore,
  StoreClosedError,
  StoreLockedError,
  StoreReadOnlyError
} from '../src/index.js'
import { AbstractStore, type ValidBatch } from '../src/plugin/index.js'
import { storeSuite, testEntry } from '../src/testing/index.js'

/** A store on a map whose primitives record their calls and can be held or failed. */
class RecordingStore extends AbstractStore {
  readonly calls: string[] = []
  readonly entries = new Map<string, Entry>()
  failOpen = false
  private gate: Promise<void> | undefined
  private release: (() => void) | undefined

  constructor(readOnly = false) {
    super({ name: 'recording store', readOnly })
  }

  hold(): void {
    this.gate = new Promise((resolve) => {
      this.release = resolve
    })
  }

  openGate(): void {
    this.release?.()
    this.gate = undefined
  }

  protected async _open(): Promise<Entry[]> {
    this.calls.push('open')
    await this.gate
    if (this.failOpen) throw new Error('cannot open')
    return [...this.entries.values()]
  }

  protected async _apply(batch: ValidBatch): Promise<void> {
    this.calls.push(`apply ${batch.put.map((entry) => entry.id).join(',')}`)
    await this.gate
    for (const id of batch.delete) this.entries.delete(id)
    for (const entry of batch.put) this.entries.set(entry.id, entry)
  }

  protected async _close(): Promise<void> {
    this.calls.push('close')
    await this.gate
  }
}

const settle = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => 'resolved',
    (error: unknown) => error
  )

describe('AbstractStore', () => {
  it('runs primitives one at a time in call order, and never two at once', async () => {
    const store = new RecordingStore()
    store.hold()
    const [a, b] = [testEntry(), testEntry()]
    const opening = store.open()
    const first = store.apply({ put: [a] })
    const second = store.apply({ put: [b] })
    const closing = store.close()
    for (let tick = 0; tick < 10 && store.calls.length === 0; tick++) await Promise.resolve()
    expect(store.status).toBe('opening')
    // the gate holds _open: nothing else has started, however many turns pass
    for (let tick = 0; tick < 20; tick++) await Promise.resolve()
    expect(store.calls).toEqual(['open'])
    store.openGate()
    await Promise.all([opening, first, second, closing])
    expect(store.calls).toEqual(['open', `apply ${a.id}`, `apply ${b.id}`, 'close'])
    expect(store.status).toBe('closed')
  })

  it('hands _apply a copy: the caller may change its objects at once', async () => {
    const store = new RecordingStore()
    await store.open()
    const entry = testEntry({ meta: { user: 'a' } })
    const applying = store.apply({ put: [entry] })
    entry.payload[0] = 99
    ;(entry.meta as Record<string, string>).user = 'b'
    await applying
    const kept = store.entries.get(entry.id) as Entry
    expect(kept.payload[0]).not.toBe(99)
    expect(kept.meta).toEqual({ user: 'a' })
  })

  it('refuses before open and after close with StoreClosedError; a bad batch is a TypeError first', async () => {
    const store = new RecordingStore()
    expect(StoreClosedError.isInstance(await settle(store.apply({ put: [testEntry()] })))).toBe(
      true
    )
    await expect(store.apply({ put: [{} as Entry] })).rejects.toThrow(TypeError)
    await expect(store.apply({ delete: [''] })).rejects.toThrow(/batch\.delete\[0\]/)
    await store.open()
    await store.close()
    expect(StoreClosedError.isInstance(await settle(store.apply({})))).toBe(true)
    expect(store.calls).toEqual(['open', 'close'])
  })

  it('a second open without _reread is StoreLockedError; the store stays open', async () => {
    const store = new RecordingStore()
    await store.open()
    expect(StoreLockedError.isInstance(await settle(store.open()))).toBe(true)
    expect(store.status).toBe('open')
    await store.apply({ put: [testEntry()] })
    await store.close()
  })

  it('a failed _open leaves the store closed and ready for another open', async () => {
    const store = new RecordingStore()
    store.failOpen = true
    const during = store.apply({ put: [testEntry()] })
    await expect(store.open()).rejects.toThrow('cannot open')
    expect(store.status).toBe('closed')
    // an apply queued behind a failed open is refused
    expect(StoreClosedError.isInstance(await settle(during))).toBe(true)
    store.failOpen = false
    expect(await store.open()).toEqual([])
    expect(store.status).toBe('open')
    await store.close()
  })

  it('read-only: apply rejects with StoreReadOnlyError and never reaches _apply', async () => {
    const store = new RecordingStore(true)
    expect(store.readOnly).toBe(true)
    await store.open()
    expect(StoreReadOnlyError.isInstance(await settle(store.apply({ put: [testEntry()] })))).toBe(
      true
    )
    expect(StoreReadOnlyError.isInstance(await settle(store.apply({})))).toBe(true)
    await store.close()
    expect(store.calls).toEqual(['open', 'close'])
  })

  it('checks its init', () => {
    class Named extends RecordingStore {
      constructor(name: unknown, readOnly?: unknown) {
        super()
        // what a subclass passing a wrong init gets
        Reflect.construct(AbstractStore, [{ name, readOnly }], RecordingStore)
      }
    }
    expect(() => new Named('')).toThrow(/init\.name must be a non-empty string/)
    expect(() => new Named('x', 'yes')).toThrow(/x: readOnly must be a boolean/)
  })
})

describe('memoryStore', () => {
  it('open() of an open memory store reads it again', async () => {
    const store = memoryStore()
    await store.open()
    const entry = testEntry()
    await store.apply({ put: [entry] })
    expect(await store.open()).toEqual([entry])
    await store.close()
  })

  it('readOnly: opens its initial entries and refuses every apply', async () => {
    const entry = testEntry()
    const store = memoryStore({ entries: [entry], readOnly: true })
    expect(store.readOnly).toBe(true)
    expect(await store.open()).toEqual([entry])
    expect(StoreReadOnlyError.isInstance(await settle(store.apply({ delete: [entry.id] })))).toBe(
      true
    )
    expect(await store.open()).toEqual([entry])
    await store.close()
  })

  it('checks its init', () => {
    expect(() => memoryStore({ entries: {} as never })).toThrow(/entries must be an array/)
    expect(() => memoryStore({ readOnly: 'yes' as never })).toThrow(/readOnly must be a boolean/)
  })
})

// the suite again, on a store that has nothing but the primitives
storeSuite('AbstractStore with only the primitives', {
  setup: () => {
    const store = new RecordingStore()
    return () => store
  },
  largeQueueEntries: 1_000
})

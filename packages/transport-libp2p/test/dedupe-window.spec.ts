import { type Entry, memoryStore, type Store, type StoreBatch } from '@dntkit/core'
import { manualClock } from '@dntkit/core/testing'
import { describe, expect, it } from 'vitest'
import { DedupeWindow } from '../src/dedupe-window.js'

const record = { peer: '12D3KooWSender', protocol: '/p/1' }

/** A memory store that counts its applies and can be made to fail or to wait. */
function recordingStore() {
  const inner = memoryStore()
  const batches: StoreBatch[] = []
  let gate: Promise<void> | undefined
  let failing = false
  const store: Store = {
    open: () => inner.open(),
    close: () => inner.close(),
    async apply(batch) {
      batches.push(batch)
      if (gate != null) await gate
      if (failing) throw new Error('disk full')
      await inner.apply(batch)
    }
  }
  return {
    store,
    batches,
    hold(): () => void {
      let release!: () => void
      gate = new Promise((resolve) => {
        release = resolve
      })
      return () => {
        gate = undefined
        release()
      }
    },
    fail(value: boolean) {
      failing = value
    },
    async contents(): Promise<Entry[]> {
      return (await inner.open()) as Entry[]
    }
  }
}

describe('DedupeWindow', () => {
  it('forgets the oldest ids beyond maxEntries', async () => {
    const window = new DedupeWindow({ maxEntries: 3 }, manualClock())
    await window.open()
    for (const key of ['a', 'b', 'c', 'd']) await window.add(key, record)
    expect(['a', 'b', 'c', 'd'].map((key) => window.has(key))).toEqual([false, true, true, true])
    expect(window.size).toBe(3)
  })

  it('forgets ids older than maxAge', async () => {
    const clock = manualClock()
    const window = new DedupeWindow({ maxAge: 1_000 }, clock)
    await window.open()
    await window.add('old', record)
    await clock.advance(600)
    await window.add('new', record)
    await clock.advance(500)
    expect(window.has('old')).toBe(false)
    expect(window.has('new')).toBe(true)
    expect(window.size).toBe(1)
  })

  it('keeps the window across a restart through a store, minus what expired meanwhile', async () => {
    const clock = manualClock()
    const recording = recordingStore()
    const first = new DedupeWindow({ maxAge: 10_000, store: recording.store }, clock)
    await first.open()
    await first.add('12D3KooWSender/one', record)
    await clock.advance(6_000)
    await first.add('12D3KooWSender/two', record)
    await first.close()
    const stored = await recording.contents()
    expect(stored.map((entry) => [entry.id, entry.level, entry.payload.byteLength])).toEqual([
      ['12D3KooWSender/one', 'dedupe', 0],
      ['12D3KooWSender/two', 'dedupe', 0]
    ])

    await clock.advance(5_000)
    const second = new DedupeWindow({ maxAge: 10_000, store: recording.store }, clock)
    await second.open()
    expect(second.has('12D3KooWSender/one')).toBe(false)
    expect(second.has('12D3KooWSender/two')).toBe(true)
    // the expired record was deleted from the store at open
    expect((await recording.contents()).map((entry) => entry.id)).toEqual(['12D3KooWSender/two'])
  })

  it('coalesces concurrent additions into one store batch while another is in flight', async () => {
    const recording = recordingStore()
    const window = new DedupeWindow({ maxEntries: 2, store: recording.store }, manualClock())
    await window.open()
    const release = recording.hold()
    const first = window.add('a', record)
    await Promise.resolve()
    expect(recording.batches).toHaveLength(1) // 'a' is being written, and held there
    const rest = [window.add('b', record), window.add('c', record), window.add('d', record)]
    release()
    await Promise.all([first, ...rest])
    expect(recording.batches).toHaveLength(2)
    // 'a' and 'b' were evicted by 'c' and 'd'; the second batch says so
    const second = recording.batches[1]!
    expect(second.put!.map((entry) => entry.id)).toEqual(['c', 'd'])
    expect([...second.delete!].sort()).toEqual(['a', 'b'])
    expect((await recording.contents()).map((entry) => entry.id)).toEqual(['c', 'd'])
  })

  it('rejects add() when the store fails, and keeps the id in memory', async () => {
    const recording = recordingStore()
    const window = new DedupeWindow({ store: recording.store }, manualClock())
    await window.open()
    recording.fail(true)
    await expect(window.add('a', record)).rejects.toThrow('disk full')
    expect(window.has('a')).toBe(true)
    recording.fail(false)
    await window.add('b', record)
  })

  it('validates its options', () => {
    expect(() => new DedupeWindow({ maxEntries: 0 }, manualClock())).toThrow(/maxEntries/)
    expect(() => new DedupeWindow({ maxAge: -1 }, manualClock())).toThrow(/maxAge/)
  })
})

import { type Entry, memoryStore, type Store, type StoreBatch } from '@dntkit/core'
import { manualClock } from '@dntkit/core/testing'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DedupeWindow } from '../src/dedupe-window.js'
import { dedupeModel } from './dedupe-model.js'

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
    expect(() => new DedupeWindow({ maxBytes: 0 }, manualClock())).toThrow(/maxBytes/)
    expect(() => new DedupeWindow({ maxAge: 1_000, minAge: 1_001 }, manualClock())).toThrow(
      'dedupe.minAge must be a number of ms from 0 to maxAge (1000), got 1001'
    )
    expect(() => new DedupeWindow({ protectedPerPeer: -1 }, manualClock())).toThrow(
      'dedupe.protectedPerPeer must be an integer >= 0, got -1'
    )
  })

  it('many fresh identities: a peer’s most recent ids stay for minAge; a new id that needs one gone is not admitted', async () => {
    const clock = manualClock()
    // 1,000 ids: each peer's 10 most recent are protected (a hundredth of maxEntries)
    const window = new DedupeWindow({ maxEntries: 1_000 }, clock)
    await window.open()
    for (let index = 0; index < 10; index++)
      await window.add(`good/${index}`, { peer: 'good', protocol: '/p' })
    await clock.advance(1)
    let admitted = 0
    for (let index = 0; window.admits(`sybil-${index}/x`, `sybil-${index}`); index++) {
      await window.add(`sybil-${index}/x`, { peer: `sybil-${index}`, protocol: '/p' })
      admitted++
    }
    expect(admitted).toBe(990)
    expect(Array.from({ length: 10 }, (_, index) => window.has(`good/${index}`))).toEqual(
      Array(10).fill(true)
    )
    // the good peer may still add: it gives up its own oldest
    expect(window.admits('good/10', 'good')).toBe(true)
    await window.add('good/10', { peer: 'good', protocol: '/p' })
    expect([window.has('good/0'), window.has('good/10')]).toEqual([false, true])
    // ten minutes on, nothing is protected any more: the oldest go for new identities
    await clock.advance(10 * 60 * 1000)
    expect(window.admits('late/x', 'late')).toBe(true)
    expect(window.protectedEvicted).toBe(0)
  })

  it('a flood from one peer evicts only its own ids; the log and evicted count say so', async () => {
    const told: Array<[string, number, string]> = []
    const window = new DedupeWindow(
      { maxEntries: 100, maxEntriesPerPeer: 50 },
      manualClock(),
      (peer, count, cause) => told.push([peer, count, cause])
    )
    await window.open()
    for (let index = 0; index < 5; index++)
      await window.add(`good/kept-${index}`, { peer: 'good', protocol: '/p' })
    for (let index = 0; index < 10_000; index++)
      await window.add(`flood/${index}`, { peer: 'flood', protocol: '/p' })
    expect(Array.from({ length: 5 }, (_, index) => window.has(`good/kept-${index}`))).toEqual(
      Array(5).fill(true)
    )
    expect(window.size).toBe(55)
    expect(window.evicted).toBe(9_950)
    // told at the 1st, 10th, 100th and 1000th eviction of that peer, not 9,950 times
    expect(told).toEqual([
      ['flood', 1, 'peer-quota'],
      ['flood', 10, 'peer-quota'],
      ['flood', 100, 'peer-quota'],
      ['flood', 1000, 'peer-quota']
    ])
  })

  it("counts bytes per peer: long ids fill a peer's quota sooner", async () => {
    const window = new DedupeWindow(
      { maxEntriesPerPeer: 1000, maxBytesPerPeer: 100 },
      manualClock()
    )
    await window.open()
    for (let index = 0; index < 10; index++)
      await window.add(`p/${'x'.repeat(30)}${index}`, { peer: 'p', protocol: '/p' })
    // 31 bytes each: three fit in 100
    expect(window.size).toBe(3)
    expect(window.has(`p/${'x'.repeat(30)}9`)).toBe(true)
  })

  it('over the global bound, the peer holding the most ids gives one up, never a smaller one', async () => {
    const window = new DedupeWindow({ maxEntries: 100, maxEntriesPerPeer: 10 }, manualClock())
    await window.open()
    for (let index = 0; index < 3; index++)
      await window.add(`small/${index}`, { peer: 'small', protocol: '/p' })
    for (let peer = 0; peer < 20; peer++)
      for (let index = 0; index < 10; index++)
        await window.add(`sybil-${peer}/${index}`, { peer: `sybil-${peer}`, protocol: '/p' })
    expect([0, 1, 2].map((index) => window.has(`small/${index}`))).toEqual([true, true, true])
    // 200 sybil ids for 97 places: each sybil is cut to 4 or 5, the small peer keeps its 3
    expect(window.size).toBe(100)
    expect(window.evicted).toBe(103)
  })

  it('applies the same quotas to what the store kept, deleting the ids it gives up', async () => {
    const clock = manualClock()
    const recording = recordingStore()
    const first = new DedupeWindow({ store: recording.store }, clock)
    await first.open()
    for (let index = 0; index < 30; index++)
      await first.add(`A/${index}`, { peer: 'A', protocol: '/p' })
    await first.add('B/only', { peer: 'B', protocol: '/p' })
    await first.close()
    const second = new DedupeWindow({ maxEntriesPerPeer: 10, store: recording.store }, clock)
    await second.open()
    expect(second.has('B/only')).toBe(true)
    expect(second.has('A/19')).toBe(false)
    expect(second.has('A/20')).toBe(true)
    const kept = (await recording.contents()).map((entry) => entry.id)
    expect(kept).toHaveLength(11)
    expect(kept).toContain('B/only')
    expect(second.evicted).toBe(20)
  })

  it('keeps each reply with its id across a restart: kept, dropped over the quota, too large', async () => {
    const clock = manualClock()
    const recording = recordingStore()
    const limits = { maxBytesPerPeer: 20, store: recording.store }
    const p = { peer: 'P', protocol: '/p' }
    const first = new DedupeWindow(limits, clock)
    await first.open()
    await first.add('P/a', p, { reply: Buffer.from('hello') })
    // 2 id bytes and 19 reply bytes pass 20: the oldest reply goes, its id stays
    await first.add('P/b', p, { reply: Buffer.from('fourteen bytes') })
    await first.add('P/c', p, { tooLarge: true })
    await first.add('P/d', p)
    expect(first.replies).toEqual({ count: 1, bytes: 14, dropped: 1 })
    await first.close()
    const stored = await recording.contents()
    expect(
      stored.map((entry) => [entry.id, entry.meta?.reply, Buffer.from(entry.payload).toString()])
    ).toEqual([
      ['P/a', 'dropped', ''],
      ['P/b', 'kept', 'fourteen bytes'],
      ['P/c', 'too-large', ''],
      ['P/d', undefined, '']
    ])
    const second = new DedupeWindow(limits, clock)
    await second.open()
    const states = ['P/a', 'P/b', 'P/c', 'P/d'].map((key) => {
      const found = second.lookup(key)
      return [
        found?.replyState,
        found?.reply === undefined ? undefined : Buffer.from(found.reply).toString()
      ]
    })
    expect(states).toEqual([
      ['dropped', undefined],
      ['kept', 'fourteen bytes'],
      ['too-large', undefined],
      ['none', undefined]
    ])
    expect(second.replies).toEqual({ count: 1, bytes: 14, dropped: 0 })
    await second.close()
  })

  it('behaves like a plain model of the rules under random adds, replies and time (model-based)', async () => {
    const runs = Number(process.env.DEDUPE_RUNS ?? 300)
    const operation = fc.oneof(
      fc.record({
        kind: fc.constant('add' as const),
        peer: fc.nat(3),
        id: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'ggg', 'é', 'hh'),
        reply: fc.option(fc.nat(6), { nil: undefined }),
        // as a receiver with several new ids admitted at once: added even where admits() said no
        forced: fc.boolean()
      }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.nat(400) })
    )
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          maxEntries: fc.integer({ min: 1, max: 12 }),
          maxEntriesPerPeer: fc.integer({ min: 1, max: 8 }),
          maxBytesPerPeer: fc.integer({ min: 3, max: 16 }),
          maxBytes: fc.integer({ min: 3, max: 40 }),
          maxAge: fc.integer({ min: 100, max: 1000 }),
          minAge: fc.integer({ min: 0, max: 100 }),
          protectedPerPeer: fc.integer({ min: 0, max: 4 })
        }),
        fc.array(operation, { maxLength: 80 }),
        async (limits, operations) => {
          const clock = manualClock()
          const window = new DedupeWindow(limits, clock)
          await window.open()
          const model = dedupeModel(limits)
          const keys = new Set<string>()
          for (const operation of operations) {
            if (operation.kind === 'advance') {
              await clock.advance(operation.ms)
            } else {
              const peer = `peer-${operation.peer}`
              const key = `${peer}/${operation.id}`
              keys.add(key)
              const reply =
                operation.reply === undefined ? undefined : new Uint8Array(operation.reply).fill(1)
              const bytes = Buffer.byteLength(operation.id)
              if (window.lookup(key) === undefined) {
                const admitted = window.admits(key, peer)
                expect(admitted, `admits ${key}`).toBe(model.admits(peer, bytes, clock.now()))
                if (!admitted && !operation.forced) continue
              }
              await window.add(key, { peer, protocol: '/p' }, reply === undefined ? {} : { reply })
              model.add(key, peer, bytes, operation.reply, clock.now())
            }
            for (const key of keys) {
              const found = window.lookup(key)
              const expected = model.get(key, clock.now())
              expect(
                found === undefined ? undefined : [found.replyState, found.reply?.byteLength],
                key
              ).toEqual(expected === undefined ? undefined : [expected.state, expected.reply])
            }
            expect(window.evicted).toBe(model.evicted)
            expect(window.protectedEvicted).toBe(model.protectedEvicted)
            expect(window.replies).toEqual(model.replies(clock.now()))
          }
        }
      ),
      { numRuns: runs }
    )
  })
})

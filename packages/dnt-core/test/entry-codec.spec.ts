import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createId, type Entry, idTime } from '../src/index.js'
import { decodeEntry, encodeEntry } from '../src/plugin/index.js'
import { testEntry } from '../src/testing/index.js'

const metaValue = fc.oneof(
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true })
)
const entryArbitrary: fc.Arbitrary<Entry> = fc.record(
  {
    id: fc.string({ minLength: 1 }),
    peer: fc.string({ minLength: 1 }),
    protocol: fc.string({ minLength: 1 }),
    level: fc.string({ minLength: 1 }),
    payload: fc.uint8Array({ maxLength: 512 }),
    attempts: fc.nat(),
    createdAt: fc.integer({ min: 0, max: 2 ** 48 }),
    nextAttemptAt: fc.integer({ min: 0, max: 2 ** 48 }),
    addrs: fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 3 }),
    meta: fc.dictionary(
      fc.string().filter((key) => key !== '__proto__'),
      metaValue,
      { maxKeys: 4 }
    ),
    lastError: fc.string(),
    deadLetter: fc.record({
      reason: fc.constantFrom('exhausted' as const, 'expired' as const, 'rejected' as const),
      at: fc.integer({ min: 0, max: 2 ** 48 })
    })
  },
  {
    requiredKeys: [
      'id',
      'peer',
      'protocol',
      'level',
      'payload',
      'attempts',
      'createdAt',
      'nextAttemptAt'
    ]
  }
)

describe('entry codec', () => {
  it('round-trips any valid entry', () => {
    fc.assert(
      fc.property(entryArbitrary, (entry) => {
        const decoded = decodeEntry(encodeEntry(entry))
        // meta travels as JSON, so compare with its JSON round trip (e.g. -0 becomes 0)
        const meta = entry.meta === undefined ? undefined : JSON.parse(JSON.stringify(entry.meta))
        expect(decoded).toEqual(meta === undefined ? entry : { ...entry, meta })
      }),
      { numRuns: 300 }
    )
  })

  it('encodes strings of every length class, ASCII and multi-byte', () => {
    for (const length of [0, 1, 14, 42, 43, 127, 128, 200, 1_700, 5_000, 5_001, 20_000]) {
      for (const unit of ['a', 'é', '✓', '😀']) {
        const text = unit.repeat(length)
        const entry = testEntry({ peer: text || 'x', protocol: text || 'p', lastError: text })
        expect(decodeEntry(encodeEntry(entry))).toEqual(entry)
      }
    }
  })

  it('never throws anything but RangeError on arbitrary or truncated bytes', () => {
    const valid = encodeEntry(testEntry({ meta: { a: 1 }, addrs: ['/ip4/127.0.0.1/tcp/1'] }))
    for (let length = 0; length < valid.byteLength; length++) {
      expect(() => decodeEntry(valid.subarray(0, length))).toThrow(RangeError)
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeEntry(bytes)
        } catch (error) {
          expect(error).toBeInstanceOf(RangeError)
        }
      }),
      { numRuns: 2_000 }
    )
  })
})

describe('ids', () => {
  it('are 26 characters, unique and sorted by creation, even within one millisecond', () => {
    const ids = Array.from({ length: 1_000 }, () => createId(1_700_000_000_000))
    expect(new Set(ids).size).toBe(1_000)
    expect([...ids].sort()).toEqual(ids)
    expect(ids[0]).toHaveLength(26)
    expect(idTime(ids[0] as string)).toBe(1_700_000_000_000)
    expect(createId(1_700_000_000_001) > (ids.at(-1) as string)).toBe(true)
    expect(idTime('order-1')).toBeUndefined()
  })
})

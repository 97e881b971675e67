import type { Entry } from '../types.js'

let sequence = 0

/** A valid entry for tests; every field can be overridden. Ids sort in creation order. */
export function testEntry(overrides: Partial<Entry> = {}): Entry {
  sequence++
  return {
    id: `test-${String(sequence).padStart(9, '0')}`,
    peer: '12D3KooWTestPeer000000000000000000000000000000000000',
    protocol: '/test/1.0.0',
    payload: Uint8Array.from([sequence & 0xff, (sequence >> 8) & 0xff]),
    level: 'critical',
    attempts: 0,
    createdAt: 1_700_000_000_000 + sequence,
    nextAttemptAt: 1_700_000_000_000 + sequence,
    ...overrides
  }
}

/** `count` bytes of deterministic pseudo-random data. */
export function pseudoRandomBytes(count: number, seed = 1): Uint8Array {
  const out = new Uint8Array(count)
  let state = seed >>> 0 || 1
  for (let index = 0; index < count; index++) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    out[index] = state & 0xff
  }
  return out
}

import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  ACK_BACKLOG_BYTES,
  ACK_HIGH_WATER_BYTES,
  DEDUPE_MAX_AGE,
  DEDUPE_MAX_BYTES,
  DEDUPE_MAX_BYTES_PER_PEER,
  DEDUPE_MAX_ENTRIES,
  DEDUPE_MAX_ENTRIES_PER_PEER,
  DEDUPE_MIN_AGE,
  DEDUPE_PROTECTED_PER_PEER,
  MAX_HEADER_BYTES,
  RATE_LIMIT_TRACKED_PEERS
} from '../src/constants.js'
import { resolveReceiverInit } from '../src/receiver-options.js'

const SECURITY = readFileSync(new URL('../../../SECURITY.md', import.meta.url), 'utf8')

/** The "default" cell of the row of SECURITY.md's receiver limits table whose first cell starts with `limit`. */
function documented(limit: string): string {
  const rows = SECURITY.split('\n').filter((line) => line.startsWith(`| ${limit}`))
  expect(rows, `one row for "${limit}" in SECURITY.md`).toHaveLength(1)
  return (rows[0] as string).split(' | ')[1] as string
}

const UNITS: Record<string, number> = { KiB: 1024, MiB: 1024 ** 2, s: 1000, bytes: 1 }

/** "64 MiB", "20 s", "1,024 frames", "one day": the number (bytes, ms, a count). */
function quantity(text: string): number {
  if (text === 'one day') return 24 * 60 * 60 * 1000
  const match = /^([\d,]+)(?: (KiB|MiB|s|bytes))?/.exec(text)
  if (match === null) throw new Error(`no quantity in "${text}"`)
  return Number((match[1] as string).replaceAll(',', '')) * (UNITS[match[2] ?? 'bytes'] as number)
}

describe("the receiver's defaults are what SECURITY.md says", () => {
  const defaults = resolveReceiverInit({})

  it('memory budget, sizes, idle timeout, streams', () => {
    expect(documented('bytes buffered, all peers')).toBe('64 MiB')
    expect(defaults.maxBufferedBytes).toBe(quantity(documented('bytes buffered, all peers')))
    expect(documented('bytes buffered per peer')).toBe('16 MiB (must hold one frame)')
    expect(defaults.maxBufferedBytesPerPeer).toBe(quantity(documented('bytes buffered per peer')))
    expect(defaults.maxMessageBytes).toBe(quantity(documented('message size')))
    expect(documented('idle or slow sender')).toBe('20 s')
    expect(defaults.idleTimeout).toBe(quantity(documented('idle or slow sender')))
    expect(documented('streams per peer')).toBe('8 envelope + 8 raw')
    expect(defaults.maxStreamsPerPeer).toBe(8)
    expect(defaults.maxInboundStreams).toBe(quantity(documented('streams per connection')))
    expect(defaults.maxHeaderBytes).toBe(quantity(documented('payload header size')))
    expect(MAX_HEADER_BYTES).toBe(64 * 1024)
    expect(documented('frame length prefix')).toBe('`maxMessageBytes` + 64 KiB')
    expect(defaults.maxIdBytes).toBe(quantity(documented('message id')))
    expect(documented('unacknowledged frames / bytes')).toBe(
      '1,024 frames, 8 MiB + one frame (the wire limits)'
    )
    expect(defaults.maxFramesInFlight).toBe(1_024)
    expect(defaults.maxBytesInFlight).toBe(8 * 1024 ** 2)
    expect(documented('acks the peer does not read')).toBe(
      "over 512 KiB waiting: that stream's next handler waits; 2 MiB (+ one reply) waiting, or no room for `idleTimeout`"
    )
    expect(ACK_HIGH_WATER_BYTES).toBe(512 * 1024)
    expect(ACK_BACKLOG_BYTES).toBe(2 * 1024 ** 2)
  })

  it('rate limit', () => {
    expect(documented('messages per peer')).toBe('1,000/s sustained, burst 50,000')
    expect(defaults.rateLimit).toEqual({ messagesPerSecond: 1_000, burst: 50_000 })
    expect(RATE_LIMIT_TRACKED_PEERS).toBe(quantity(documented('rate-limit state')))
  })

  it('dedupe window', () => {
    expect(documented('dedupe window, all peers')).toBe(
      '100,000 ids, 64 MiB of ids and cached replies'
    )
    expect(DEDUPE_MAX_ENTRIES).toBe(quantity(documented('dedupe window, all peers')))
    expect(DEDUPE_MAX_BYTES).toBe(64 * 1024 ** 2)
    expect(documented('dedupe window per peer')).toBe('10,000 ids, 1 MiB of ids and cached replies')
    expect(DEDUPE_MAX_ENTRIES_PER_PEER).toBe(10_000)
    expect(DEDUPE_MAX_BYTES_PER_PEER).toBe(1024 ** 2)
    expect(DEDUPE_MAX_AGE).toBe(quantity(documented('dedupe window age')))
    expect(documented("ids safe from other peers' traffic")).toBe(
      "each peer's 256 most recent ids (a sender's frames in flight; at most a hundredth of `maxEntries`) for 10 minutes (twice the default preset's longest backoff)"
    )
    expect(DEDUPE_PROTECTED_PER_PEER).toBe(256)
    expect(DEDUPE_MIN_AGE).toBe(10 * 60 * 1000)
  })
})

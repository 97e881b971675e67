import { DeliveryRejectedError } from '@dntkit/core'
import { manualClock, testEntry } from '@dntkit/core/testing'
import type { Libp2p } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { varintBytes } from '../src/envelope-codec.js'
import { libp2pTransport } from '../src/index.js'
import {
  capturingLogger,
  frame,
  GOOD,
  type HostileStream,
  handledFrom,
  headerOnly,
  hostileStream,
  serve,
  wellBehaved
} from './hostile-peer.js'
import { addrsOf, createNode, stopAll, waitFor } from './nodes.js'

afterEach(stopAll)

const KiB = 1024
const IDLE = 10_000
const signal = () => AbortSignal.timeout(10_000)
/** The floods send 10,050 and 50,100 frames: a hang bound for a busy machine, not a measure. */
const FLOOD_TIMEOUT = 90_000

/** A frame that declares `declared` bytes of payload and brings `sent` of them, never the rest. */
function partialFrame(id: string, declared: number, sent: number): Uint8Array {
  const head = headerOnly(0, id, GOOD, declared)
  const bytes = new Uint8Array(head.byteLength + sent)
  bytes.set(head)
  return bytes
}

/** What a receiver holds of a partial frame once it arrived: everything after its length prefix. */
function heldOf(id: string, declared: number, sent: number): number {
  const head = headerOnly(0, id, GOOD, declared)
  const body = head.byteLength + declared
  let prefix = 1
  while (varintBytes(body - prefix).byteLength !== prefix) prefix++
  return head.byteLength - prefix + sent
}

/** Sends a partial frame and waits until the receiver either holds all of it or answered it. */
async function sendPartial(
  stream: HostileStream,
  id: string,
  buffered: () => number,
  declared: number,
  sent: number
): Promise<'held' | 'refused'> {
  const before = buffered()
  stream.send(partialFrame(id, declared, sent))
  const held = heldOf(id, declared, sent)
  await waitFor(
    () => stream.acks.length > 0 || buffered() === before + held,
    10_000,
    `${id} held or answered`
  )
  if (stream.acks.length === 0) return 'held'
  expect(stream.acks[0]).toMatchObject({ status: 'try-later', code: 'over-budget' })
  return 'refused'
}

/** `count` message frames with fresh ids, sent in batches the receiver's window allows. */
async function flood(stream: HostileStream, count: number, prefix: string): Promise<void> {
  const batch = 500
  for (let start = 0; start < count; start += batch) {
    const end = Math.min(count, start + batch)
    const frames = []
    for (let index = start; index < end; index++)
      frames.push(frame(index, `${prefix}-${index}`, GOOD, new Uint8Array(1)))
    stream.send(Buffer.concat(frames))
    await stream.waitForAcks(end, 30_000)
  }
}

/*
 * Envelope mode against hostile peers: real libp2p nodes over TCP on
 * 127.0.0.1 writing frames by hand. Memory is asserted on the receiver's
 * buffered-byte counters, timeouts on a manual clock, and a well-behaved
 * peer is served meanwhile through the real transport.
 */
describe('envelope mode against hostile peers', () => {
  it('identities x streams x partial frames: each identity held to its share, a good peer served meanwhile', async () => {
    const clock = manualClock()
    const served = await serve({
      clock,
      idleTimeout: IDLE,
      maxMessageBytes: 256 * KiB,
      maxBufferedBytes: 2048 * KiB,
      maxBufferedBytesPerPeer: 512 * KiB
    })
    const buffered = () => served.handle.stats().bufferedBytes
    const outcomes: string[] = []
    const streams: HostileStream[] = []
    // identities cost nothing to make
    for (let identity = 0; identity < 3; identity++) {
      const hostile = await createNode()
      for (let index = 0; index < 4; index++) {
        const stream = await hostileStream(hostile, served.node)
        streams.push(stream)
        outcomes.push(
          await sendPartial(stream, `part-${identity}-${index}`, buffered, 250 * KiB, 200 * KiB)
        )
      }
    }
    // two frames of 250 KiB fit a share of 512 KiB; the third and fourth are refused from their header
    expect(outcomes).toEqual(Array(3).fill(['held', 'held', 'refused', 'refused']).flat())
    const stats = served.handle.stats()
    expect(stats.tryLater['over-budget']).toBe(6)
    expect(stats.peakPeerBufferedBytes).toBeLessThanOrEqual(512 * KiB)
    expect(stats.peakBufferedBytes).toBeLessThanOrEqual(2048 * KiB)
    expect(await wellBehaved(served, 20)).toHaveLength(20)
    await clock.advance(IDLE)
    await Promise.all(streams.map((stream) => stream.ended))
    // every hostile stream is cut: those holding a frame and those whose frame was refused alike
    expect(served.handle.stats()).toMatchObject({ bufferedBytes: 0, streamErrors: { idle: 12 } })
  })

  it('more identities than the budget holds: never over it; a message that does not fit is try-later, then delivered', async () => {
    const clock = manualClock()
    const served = await serve({
      clock,
      idleTimeout: IDLE,
      maxMessageBytes: 256 * KiB,
      maxBufferedBytes: 1024 * KiB,
      maxBufferedBytesPerPeer: 512 * KiB
    })
    const buffered = () => served.handle.stats().bufferedBytes
    const outcomes: string[] = []
    for (let identity = 0; identity < 4; identity++) {
      const hostile = await createNode()
      for (let index = 0; index < 2; index++) {
        const stream = await hostileStream(hostile, served.node)
        outcomes.push(
          await sendPartial(stream, `sybil-${identity}-${index}`, buffered, 250 * KiB, 200 * KiB)
        )
      }
    }
    // four frames of 250 KiB fit the 1 MiB budget (the fifth would not, whoever sends it)
    expect(outcomes.filter((outcome) => outcome === 'held')).toHaveLength(4)
    expect(served.handle.stats().peakBufferedBytes).toBeLessThanOrEqual(1024 * KiB)
    // small messages still fit in what is left
    expect(await wellBehaved(served, 5)).toHaveLength(5)
    const sender = await createNode()
    const transport = libp2pTransport(sender, { mode: 'envelope' })
    const big = testEntry({
      peer: served.node.peerId.toString(),
      addrs: addrsOf(served.node),
      protocol: GOOD,
      payload: new Uint8Array(250 * KiB)
    })
    const attempt = transport.deliver(big, { signal: signal() })
    // answered try-later: retried, never final
    await expect(attempt).rejects.toSatisfy(
      (error: unknown) => !DeliveryRejectedError.isInstance(error)
    )
    await expect(attempt).rejects.toThrow(/budget/)
    // the stalled frames are cut at the idle timeout; the retry goes through
    await clock.advance(IDLE)
    await waitFor(() => buffered() === 0)
    await transport.deliver(big, { signal: signal() })
    expect(handledFrom(served, sender)).toEqual([big.id])
    await transport.close()
  })

  it(
    "a dedupe flood from one peer forgets only that peer's ids: a good peer's retry is still a duplicate",
    async () => {
      const logs = capturingLogger()
      const served = await serve({ logger: logs.factory })
      const good = await createNode()
      const transport = libp2pTransport(good, { mode: 'envelope' })
      const message = testEntry({
        peer: served.node.peerId.toString(),
        addrs: addrsOf(served.node),
        protocol: GOOD,
        id: 'exactly-once'
      })
      await transport.deliver(message, { signal: signal() })
      await transport.deliver({ ...message }, { signal: signal() })
      expect(served.handle.stats().duplicates).toBe(1)
      // more new ids than a peer may have remembered (10,000 by default)
      const hostile = await createNode()
      const stream = await hostileStream(hostile, served.node)
      await flood(stream, 10_050, 'flood')
      expect(stream.acks.every((ack) => ack.status === 'ok')).toBe(true)
      await transport.deliver({ ...message }, { signal: signal() })
      expect(handledFrom(served, good)).toEqual(['exactly-once'])
      const stats = served.handle.stats()
      expect(stats.duplicates).toBe(2)
      expect(stats.dedupeEvicted).toBe(50)
      expect(stats.dedupeEntries).toBe(10_001)
      const warning = logs.lines.find((line) => line.includes('dedupe window: forgot'))
      expect(warning).toContain(hostile.peerId.toString())
      expect(warning).toContain('before maxAge')
      // what was given up is the flooder's own oldest: its retry would run again
      stream.send(frame(10_050, 'flood-0', GOOD, new Uint8Array(1)))
      expect((await stream.waitForAcks(10_051))[10_050]).toMatchObject({ status: 'ok' })
      await transport.close()
    },
    FLOOD_TIMEOUT
  )

  it(
    'a rate flood trips the default limit: try-later from the header past the burst, a good peer keeps its bucket',
    async () => {
      const clock = manualClock()
      const served = await serve({ clock })
      const hostile = await createNode()
      const stream = await hostileStream(hostile, served.node)
      // the default bucket holds 50,000; time stands still, so nothing refills it
      await flood(stream, 50_100, 'fast')
      const statuses = stream.acks.map((ack) => ack.status)
      expect(statuses.filter((status) => status === 'ok')).toHaveLength(50_000)
      expect(statuses.slice(50_000)).toEqual(Array(100).fill('try-later'))
      expect(stream.acks[50_099]).toMatchObject({ code: 'rate-limited' })
      expect(served.handle.stats().tryLater['rate-limited']).toBe(100)
      expect(await wellBehaved(served, 20)).toHaveLength(20)
      // a second later: 1,000 more
      await clock.advance(1_000)
      stream.send(frame(50_100, 'later', GOOD, new Uint8Array(1)))
      expect((await stream.waitForAcks(50_101))[50_100]).toMatchObject({ status: 'ok' })
    },
    FLOOD_TIMEOUT
  )
})

/** Bytes of a varint-length-prefixed string. */
function text(value: string | Uint8Array): number[] {
  const bytes = typeof value === 'string' ? [...Buffer.from(value)] : [...value]
  return [...varintBytes(bytes.length), ...bytes]
}

/** A frame body built field by field: type, sequence, id, protocol, meta, payload. */
function body(fields: {
  type?: number
  sequence?: number[]
  id?: number[]
  protocol?: number[]
  meta?: number[]
}) {
  return [
    fields.type ?? 1,
    ...(fields.sequence ?? [0]),
    ...(fields.id ?? text('m')),
    ...(fields.protocol ?? text(GOOD)),
    ...(fields.meta ?? text('')),
    7
  ]
}

const framed = (bytes: number[]) => Uint8Array.from([...varintBytes(bytes.length), ...bytes])

/** Every kind of malformed frame: each resets its stream, acks nothing, and nobody else suffers. */
const MALFORMED: Array<[string, Uint8Array]> = [
  ['unknown frame type', framed(body({ type: 3 }))],
  ['an ack frame sent to the receiver', framed([2, 0, 0])],
  ['a type-0 frame', framed(body({ type: 0 }))],
  ['a length prefix that is not a varint', new Uint8Array(9).fill(0xff)],
  ['an empty body', Uint8Array.of(0)],
  ['a sequence out of order', framed(body({ sequence: [5] }))],
  ['a sequence varint of 8 continuation bytes', framed(body({ sequence: Array(8).fill(0x80) }))],
  ['an empty id', framed(body({ id: text('') }))],
  ['an empty protocol', framed(body({ protocol: text('') }))],
  ['an id that is not UTF-8', framed(body({ id: text(Uint8Array.of(0xc3, 0x28)) }))],
  ['a protocol that is not UTF-8', framed(body({ protocol: text(Uint8Array.of(0xff)) }))],
  ['meta that is not UTF-8', framed(body({ meta: text(Uint8Array.of(0xe2, 0x82)) }))],
  ['meta that is not JSON', framed(body({ meta: text('{nope') }))],
  ['meta that is a JSON array', framed(body({ meta: text('[1,2]') }))],
  ['meta that is JSON null', framed(body({ meta: text('null') }))],
  ['meta with an object value', framed(body({ meta: text('{"a":{"b":1}}') }))],
  ['an id longer than the body', framed([1, 0, 50, 109, 109])],
  ['a body that ends inside the sequence', framed([1, 0x80])],
  ['a body that ends after the type', framed([1])]
]

describe('envelope mode against malformed frames', () => {
  it(`resets the stream of each of ${MALFORMED.length} kinds of malformed frame; a good peer is served`, async () => {
    const served = await serve()
    const hostile = await createNode()
    const cases: Array<{ what: string; stream: HostileStream }> = []
    for (const [what, bytes] of MALFORMED) {
      const stream = await hostileStream(hostile, served.node)
      stream.send(bytes)
      cases.push({ what, stream })
    }
    const good = wellBehaved(served, 20)
    await Promise.all(cases.map(({ stream }) => stream.ended))
    expect(cases.filter(({ stream }) => !stream.reset()).map(({ what }) => what)).toEqual([])
    expect(cases.filter(({ stream }) => stream.acks.length > 0).map(({ what }) => what)).toEqual([])
    expect(served.handle.stats().streamErrors.malformed).toBe(MALFORMED.length)
    expect(handledFrom(served, hostile)).toEqual([])
    expect(await good).toHaveLength(20)
    expect(served.handle.stats().bufferedBytes).toBe(0)
  })

  it('a repeated sequence number after a good frame: the good one is acked, then the stream is reset', async () => {
    const served = await serve()
    const hostile: Libp2p = await createNode()
    const stream = await hostileStream(hostile, served.node)
    stream.send(frame(0, 'first'))
    await stream.waitForAcks(1)
    stream.send(frame(0, 'again'))
    await stream.ended
    expect(stream.reset()).toBe(true)
    expect(handledFrom(served, hostile)).toEqual(['first'])
    expect(served.handle.stats().streamErrors.malformed).toBe(1)
  })
})

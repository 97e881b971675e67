import { manualClock, testEntry } from '@dntkit/core/testing'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { libp2pTransport } from '../src/index.js'
import {
  type HostileRawStream,
  hostileRawStream,
  RAW,
  serveBoth,
  wellBehavedRaw
} from './hostile-peer.js'
import { addrsOf, createNode, stopAll, waitFor } from './nodes.js'

afterEach(stopAll)

const KiB = 1024
const IDLE = 10_000

/*
 * Raw mode against hostile peers: real libp2p nodes over TCP on 127.0.0.1
 * that open raw streams and write what an attacker would. Memory is asserted
 * on the receiver's buffered-byte counters, timeouts on a manual clock (time
 * moves only when the test says so), and a well-behaved peer is served
 * meanwhile through the real transport.
 */
describe('raw mode against hostile peers', () => {
  it('many connections x streams x large partial payloads: held to the streams per peer and its budget share', async () => {
    const clock = manualClock()
    const served = await serveBoth({
      clock,
      idleTimeout: IDLE,
      maxMessageBytes: 256 * KiB,
      maxBufferedBytes: 1024 * KiB,
      maxBufferedBytesPerPeer: 512 * KiB
    })
    const hostile = await createNode()
    const target = multiaddr(`${addrsOf(served.node)[0]}/p2p/${served.node.peerId}`)
    const streams: HostileRawStream[] = []
    const connections = new Set<string>()
    for (let index = 0; index < 3; index++) {
      // a connection of its own each time: limits per connection would not hold this peer
      const connection = await hostile.dial(target, { force: true })
      connections.add(connection.id)
      for (let stream = 0; stream < 6; stream++)
        streams.push(await hostileRawStream(hostile, served.node, { connection }))
    }
    expect(connections.size).toBe(3)
    const stats = () => served.handle.stats()
    await waitFor(
      () =>
        stats().raw.streamsAccepted + (stats().raw.streamErrors['too-many-streams'] ?? 0) === 18,
      10_000,
      'every stream accepted or refused'
    )
    expect(stats().raw.streamsAccepted).toBe(8)
    // 200 KiB of a message on every stream, never closed
    for (const stream of streams) stream.send(new Uint8Array(200 * KiB).fill(0xa5))
    await waitFor(
      () => {
        const now = stats()
        const overBudget = now.raw.streamErrors['over-budget'] ?? 0
        return (
          now.raw.activeStreams + overBudget === 8 &&
          now.bufferedBytes === now.raw.activeStreams * 200 * KiB
        )
      },
      10_000,
      'every accepted stream holding its 200 KiB or reset'
    )
    const held = stats()
    // at most two messages of 200 KiB fit the peer's 512 KiB share: the others were refused, not buffered
    expect(held.raw.activeStreams).toBeLessThanOrEqual(2)
    expect(held.raw.streamErrors['over-budget']).toBeGreaterThanOrEqual(6)
    expect(held.peakPeerBufferedBytes).toBeLessThanOrEqual(512 * KiB)
    expect(held.peakBufferedBytes).toBeLessThanOrEqual(1024 * KiB)
    // another peer is served meanwhile, with a share of its own
    expect(await wellBehavedRaw(served, 10, { bytes: 4 * KiB })).toHaveLength(10)
    expect(served.raw).toHaveLength(10)
    // the streams left open are cut at the read timeout, and their bytes given back
    await clock.advance(IDLE)
    await waitFor(() => stats().bufferedBytes === 0 && stats().raw.activeStreams === 0)
    expect(stats().raw.streamErrors.idle).toBe(held.raw.activeStreams)
    await Promise.all(streams.map((stream) => stream.ended))
    expect(streams.every((stream) => stream.reset())).toBe(true)
  })

  it('a 1-byte trickle is cut when the whole message is not in within idleTimeout, bytes or not', async () => {
    const clock = manualClock()
    const served = await serveBoth({ clock, idleTimeout: IDLE })
    const hostile = await createNode()
    const trickle = await hostileRawStream(hostile, served.node)
    const stats = () => served.handle.stats()
    trickle.send(Uint8Array.of(1))
    await waitFor(() => stats().bufferedBytes === 1)
    await clock.advance(IDLE - 1)
    trickle.send(Uint8Array.of(2))
    await waitFor(() => stats().bufferedBytes === 2)
    expect(stats().raw.activeStreams).toBe(1) // a byte a while keeps nothing alive by itself...
    expect(await wellBehavedRaw(served, 3)).toHaveLength(3)
    await clock.advance(1) // ...the deadline is for the whole message
    await trickle.ended
    expect(trickle.reset()).toBe(true)
    expect(stats().raw.streamErrors.idle).toBe(1)
    expect(stats().bufferedBytes).toBe(0)
    expect(served.raw.map((message) => message.from)).not.toContain(hostile.peerId.toString())
  })

  it('idle streams: the peer is held to maxStreamsPerPeer, the idle ones are cut, then it may come back', async () => {
    const clock = manualClock()
    const served = await serveBoth({ clock, idleTimeout: IDLE, maxStreamsPerPeer: 8 })
    const hostile = await createNode()
    const idle: HostileRawStream[] = []
    for (let index = 0; index < 32; index++) idle.push(await hostileRawStream(hostile, served.node))
    const stats = () => served.handle.stats()
    await waitFor(
      () => (stats().raw.streamErrors['too-many-streams'] ?? 0) === 24,
      10_000,
      '24 refused'
    )
    expect(stats().raw.activeStreams).toBe(8)
    // another peer is not held back by them
    expect(await wellBehavedRaw(served, 5)).toHaveLength(5)
    await clock.advance(IDLE)
    await Promise.all(idle.map((stream) => stream.ended))
    expect(stats().raw.streamErrors.idle).toBe(8)
    expect(stats().raw.activeStreams).toBe(0)
    // its slots are free again: the same peer delivers through the real transport
    expect(await wellBehavedRaw(served, 1, { sender: hostile })).toHaveLength(1)
  })

  it('resets a message over maxMessageBytes as soon as it passes, keeping none of it', async () => {
    const served = await serveBoth({ maxMessageBytes: 64 * KiB })
    const hostile = await createNode()
    const stream = await hostileRawStream(hostile, served.node)
    for (
      let sent = 0;
      sent < 256 * KiB && stream.send(new Uint8Array(16 * KiB));
      sent += 16 * KiB
    ) {
      await new Promise((resolve) => setImmediate(resolve))
    }
    await stream.ended
    expect(stream.reset()).toBe(true)
    const stats = served.handle.stats()
    expect(stats.raw.streamErrors['too-large']).toBe(1)
    expect(stats.peakBufferedBytes).toBeLessThanOrEqual(64 * KiB)
    expect(stats.bufferedBytes).toBe(0)
    expect(served.raw).toEqual([])
  })

  it('hands nothing over from a stream that ends with a reset, and resets one whose handler throws', async () => {
    const served = await serveBoth({}, (message) => {
      if (new TextDecoder().decode(message.payload) === 'refuse me') throw new Error('no thanks')
    })
    const hostile = await createNode()
    const aborted = await hostileRawStream(hostile, served.node)
    aborted.send(new Uint8Array(100))
    await waitFor(() => served.handle.stats().bufferedBytes === 100)
    aborted.stream.abort(new Error('gone'))
    await waitFor(() => served.handle.stats().raw.streamErrors.reset === 1)
    const transport = libp2pTransport(hostile)
    const refused = transport.deliver(
      testEntry({
        peer: served.node.peerId.toString(),
        addrs: addrsOf(served.node),
        protocol: RAW,
        payload: new TextEncoder().encode('refuse me')
      }),
      { signal: AbortSignal.timeout(10_000) }
    )
    // the handler threw: the stream was reset, which the sender retries
    await expect(refused).rejects.toMatchObject({
      name: 'DeliveryFailedError',
      code: 'DNT_DELIVERY_FAILED',
      reason: 'reset'
    })
    expect(served.handle.stats().raw.streamErrors['handler-error']).toBe(1)
    expect(served.raw.map((message) => new TextDecoder().decode(message.payload))).toEqual([
      'refuse me'
    ])
    expect(served.handle.stats()).toMatchObject({ bufferedBytes: 0, raw: { messages: 0 } })
  })

  it('resets a stream of a peer off the allowlist, or over its rate limit, before reading a byte', async () => {
    const clock = manualClock()
    const friend = await createNode()
    const served = await serveBoth({
      clock,
      allow: [friend.peerId.toString()],
      rateLimit: { messagesPerSecond: 1, burst: 3 }
    })
    const stranger = await createNode()
    const intrusion = await hostileRawStream(stranger, served.node)
    intrusion.send(new Uint8Array(1000))
    await intrusion.ended
    expect(intrusion.reset()).toBe(true)
    expect(served.handle.stats().raw.streamErrors.unauthorized).toBe(1)
    expect(served.handle.stats().peakBufferedBytes).toBe(0)
    // the friend: three at once, then the bucket is empty until the clock moves
    expect(await wellBehavedRaw(served, 3, { sender: friend })).toHaveLength(3)
    await expect(wellBehavedRaw(served, 1, { sender: friend })).rejects.toMatchObject({
      name: 'DeliveryFailedError',
      code: 'DNT_DELIVERY_FAILED',
      reason: 'reset'
    })
    expect(served.handle.stats().raw.streamErrors['rate-limited']).toBe(1)
    await clock.advance(1_000)
    expect(await wellBehavedRaw(served, 1, { sender: friend })).toHaveLength(1)
  })
})

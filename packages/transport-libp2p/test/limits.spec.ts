import { manualClock } from '@dntkit/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { varintBytes } from '../src/envelope-codec.js'
import {
  frame,
  GOOD,
  handledFrom,
  headerOnly,
  hostileStream,
  OTHER,
  serve,
  wellBehaved
} from './hostile-peer.js'
import { createNode, stopAll, waitFor } from './nodes.js'

afterEach(stopAll)

/*
 * Each limit of the receiving side against a misbehaving peer written for the
 * test: a real libp2p node that writes raw bytes on /dntkit/envelope/1.0.0
 * over TCP on 127.0.0.1, while a well-behaved peer delivers through the real
 * transport at the same time and must be served in full.
 */
describe('receiver limits against a hostile peer', () => {
  it('maxMessageBytes: refuses an oversized payload from its header, skips it, and reads on', async () => {
    const served = await serve({ maxMessageBytes: 16 * 1024, idleTimeout: 10_000 })
    const hostile = await createNode()
    const stream = await hostileStream(hostile, served.node)
    // declares 60 KiB of payload, sends none of it: the answer cannot wait for the body
    stream.send(headerOnly(0, 'huge', GOOD, 60 * 1024))
    const good = wellBehaved(served, 20)
    const [refusal] = await stream.waitForAcks(1)
    expect(refusal).toMatchObject({ sequence: 0, status: 'rejected', code: 'too-large' })
    // the body follows and is discarded as it arrives; the next frame is served
    stream.send(new Uint8Array(60 * 1024).fill(0xee))
    stream.send(frame(1, 'after'))
    const acks = await stream.waitForAcks(2)
    expect(acks[1]).toMatchObject({ sequence: 1, status: 'ok' })
    expect(handledFrom(served, hostile)).toEqual(['after'])
    expect(await good).toHaveLength(20)
    expect(served.handled).toHaveLength(21)
    expect(served.handle.stats().rejected['too-large']).toBe(1)
  })

  it('maxMessageBytes: refuses a length prefix over the limit at once and closes that stream only', async () => {
    const served = await serve({ maxMessageBytes: 16 * 1024, idleTimeout: 10_000 })
    const hostile = await createNode()
    const stream = await hostileStream(hostile, served.node)
    stream.send(varintBytes(2 ** 40)) // a terabyte announced
    stream.send(Uint8Array.of(1, 0))
    const good = wellBehaved(served, 20)
    const [refusal] = await stream.waitForAcks(1)
    expect(refusal).toMatchObject({ sequence: 0, status: 'rejected', code: 'too-large' })
    await stream.ended
    expect(await good).toHaveLength(20)
    // the hostile peer itself may come back on a new stream
    const again = await hostileStream(hostile, served.node)
    again.send(frame(0, 'fine'))
    expect((await again.waitForAcks(1))[0]).toMatchObject({ status: 'ok' })
  })

  it('maxFramesInFlight: resets a stream that piles up unacknowledged frames', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const served = await serve({ maxFramesInFlight: 4 }, (message) =>
      message.protocol === OTHER ? gate : undefined
    )
    const hostile = await createNode()
    const stream = await hostileStream(hostile, served.node)
    // the first frame blocks its handler; nine more pile up behind it
    const burst = Array.from({ length: 10 }, (_, index) => frame(index, `pile-${index}`, OTHER))
    stream.send(Buffer.concat(burst))
    await stream.ended
    expect(stream.reset()).toBe(true)
    expect(served.handle.stats().streamErrors['too-many-frames']).toBe(1)
    // a sender that keeps to the receiver's limit is served
    expect(await wellBehaved(served, 20, { maxFramesInFlight: 4 })).toHaveLength(20)
    release()
    expect(handledFrom(served, hostile)).toEqual(['pile-0'])
  })

  it('maxBytesInFlight: resets a stream that piles up unacknowledged bytes', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    // allowance: maxBytesInFlight + one frame (16 KiB payload + 64 KiB header) = 96 KiB
    const served = await serve(
      { maxBytesInFlight: 16 * 1024, maxMessageBytes: 16 * 1024 },
      (message) => (message.protocol === OTHER ? gate : undefined)
    )
    const hostile = await createNode()
    const stream = await hostileStream(hostile, served.node)
    for (let index = 0; index < 8; index++)
      stream.send(frame(index, `heavy-${index}`, OTHER, new Uint8Array(15 * 1024)))
    await stream.ended
    expect(stream.reset()).toBe(true)
    expect(served.handle.stats().streamErrors['too-many-frames']).toBe(1)
    expect(await wellBehaved(served, 20, { maxBytesInFlight: 16 * 1024 })).toHaveLength(20)
    release()
  })

  it('maxStreamsPerPeer: resets a new stream over the limit at once, other peers unaffected', async () => {
    // time stands still: a reset cannot be the idle timeout
    const served = await serve({ maxStreamsPerPeer: 2, clock: manualClock() })
    const hostile = await createNode()
    const open = []
    for (let index = 0; index < 2; index++) {
      const stream = await hostileStream(hostile, served.node)
      stream.send(frame(0, `held-${index}`))
      await stream.waitForAcks(1)
      open.push(stream)
    }
    const third = await hostileStream(hostile, served.node)
    third.send(frame(0, 'third'))
    await third.ended
    expect(third.reset()).toBe(true)
    expect(third.acks).toEqual([])
    expect(served.handle.stats().streamErrors['too-many-streams']).toBe(1)
    // another peer, and the first two streams, are still served
    expect(await wellBehaved(served, 20)).toHaveLength(20)
    open[0]?.send(frame(1, 'still-open'))
    await open[0]?.waitForAcks(2)
    expect(handledFrom(served, hostile)).toEqual(['held-0', 'held-1', 'still-open'])
    // once one of them closes, the peer may open another
    await open[1]?.stream.close()
    await waitFor(() => served.handle.stats().activeStreams === 1, 5_000, 'one stream left')
    const next = await hostileStream(hostile, served.node)
    next.send(frame(0, 'next'))
    expect((await next.waitForAcks(1))[0]).toMatchObject({ status: 'ok' })
  })

  it('rate limit: answers try-later from the header once a peer empties its bucket; others keep theirs', async () => {
    const clock = manualClock()
    const served = await serve({ rateLimit: { messagesPerSecond: 10, burst: 5 }, clock })
    const hostile = await createNode()
    const stream = await hostileStream(hostile, served.node)
    stream.send(
      Buffer.concat(Array.from({ length: 8 }, (_, index) => frame(index, `fast-${index}`)))
    )
    const acks = await stream.waitForAcks(8)
    expect(acks.map((ack) => ack.status)).toEqual([
      ...Array(5).fill('ok'),
      ...Array(3).fill('try-later')
    ])
    expect(acks[7]).toMatchObject({ code: 'rate-limited' })
    expect(handledFrom(served, hostile)).toHaveLength(5)
    // a well-behaved peer has its own bucket
    expect(await wellBehaved(served, 5)).toHaveLength(5)
    // 300 ms later: 3 more tokens
    await clock.advance(300)
    stream.send(
      Buffer.concat(Array.from({ length: 4 }, (_, index) => frame(8 + index, `later-${index}`)))
    )
    const later = await stream.waitForAcks(12)
    expect(later.slice(8).map((ack) => ack.status)).toEqual(['ok', 'ok', 'ok', 'try-later'])
    expect(served.handle.stats().tryLater['rate-limited']).toBe(4)
  })

  it('idle timeout: cuts off a silent peer, a trickling one and a slow body; others unaffected', async () => {
    const clock = manualClock()
    const served = await serve({ idleTimeout: 400, clock })
    const hostile = await createNode()
    const silent = await hostileStream(hostile, served.node)
    const trickling = await hostileStream(hostile, served.node)
    const slowBody = await hostileStream(hostile, served.node)
    const bytes = frame(0, 'slow', GOOD, new Uint8Array(200))
    slowBody.send(bytes.subarray(0, 40)) // the header arrives, the body never completes
    await waitFor(() => served.handle.stats().bufferedBytes >= 38, 5_000, 'the slow header')
    // a byte at a time, 100 ms of the receiver's clock apart: never a whole frame in 400 ms
    for (let offset = 0; offset < 3; offset++) {
      trickling.send(bytes.subarray(offset, offset + 1))
      await clock.advance(100)
    }
    expect(served.handle.stats().streamErrors.idle).toBeUndefined()
    expect(await wellBehaved(served, 20)).toHaveLength(20)
    await clock.advance(100)
    await Promise.all([silent.ended, trickling.ended, slowBody.ended])
    expect([silent, trickling, slowBody].map((stream) => stream.reset())).toEqual([
      true,
      true,
      true
    ])
    expect(served.handle.stats().streamErrors.idle).toBe(3)
    expect(handledFrom(served, hostile)).toEqual([])
  })

  it('dedupe memory: refuses an id over maxIdBytes from its length, and keeps at most maxEntries ids', async () => {
    const served = await serve({ maxIdBytes: 32, dedupe: { maxEntries: 10 } })
    const hostile = await createNode()
    const stream = await hostileStream(hostile, served.node)
    // type, sequence 0, then an id length of 100,000: nothing of the id follows
    stream.send(Uint8Array.of(...varintBytes(200_000), 1, 0, ...varintBytes(100_000)))
    const [refusal] = await stream.waitForAcks(1)
    expect(refusal).toMatchObject({ sequence: 0, status: 'rejected', code: 'id-too-long' })
    // the rest of that frame is skipped as it comes
    stream.send(new Uint8Array(200_000 - 1 - 1 - varintBytes(100_000).byteLength))
    const distinct = Array.from({ length: 50 }, (_, index) =>
      frame(1 + index, `id-${index}-${'x'.repeat(20)}`)
    )
    stream.send(Buffer.concat(distinct))
    const acks = await stream.waitForAcks(51)
    expect(acks.slice(1).every((ack) => ack.status === 'ok')).toBe(true)
    expect(await wellBehaved(served, 20)).toHaveLength(20)
    const stats = served.handle.stats()
    expect(stats.rejected['id-too-long']).toBe(1)
    expect(stats.dedupeEntries).toBe(10)
  })

  it('ack backlog: resets a stream whose peer stops reading its acks', async () => {
    const served = await serve({ rateLimit: false })
    const hostile = await createNode()
    const stream = await hostileStream(hostile, served.node, { read: false })
    stream.stream.pause() // never reads: its receive window closes, our acks queue up
    // 100,000 frames of ~14 bytes for an unknown protocol, each answered with a ~52-byte
    // rejection: 5 MB of acks against a 256 KiB window and the 2 MiB backlog limit
    const frames: Uint8Array[] = []
    for (let index = 0; index < 100_000; index++)
      frames.push(frame(index, `n${index}`, '/none', new Uint8Array(0)))
    const all = Buffer.concat(frames)
    for (
      let offset = 0;
      offset < all.byteLength && stream.stream.status === 'open';
      offset += 64 * 1024
    ) {
      stream.send(all.subarray(offset, offset + 64 * 1024))
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    await waitFor(
      () => served.handle.stats().streamErrors['ack-backlog'] === 1,
      10_000,
      'the reset'
    )
    expect(await wellBehaved(served, 20)).toHaveLength(20)
  })

  it('replies the peer does not read: its handlers wait for room, and after idleTimeout the stream is reset', async () => {
    const clock = manualClock()
    const served = await serve({ rateLimit: false, clock, idleTimeout: 10_000 }, (message) =>
      message.protocol === OTHER ? new Uint8Array(60 * 1024) : undefined
    )
    const cutOff: string[] = []
    served.handle.events.addEventListener('stream-error', (event) =>
      cutOff.push(event.detail.error.message)
    )
    const hostile = await createNode()
    const stream = await hostileStream(hostile, served.node, { read: false })
    stream.stream.pause() // never reads: its receive window closes, the replies queue up
    // 40 frames in one write, each answered with 60 KiB: 2.4 MB of acks
    stream.send(
      Buffer.concat(Array.from({ length: 40 }, (_, index) => frame(index, `r${index}`, OTHER)))
    )
    // the queue is busy and one timer runs: the wait for room, not the idle timeout
    await waitFor(() => served.handled.length > 0 && clock.pending === 1, 10_000, 'the wait')
    const ran = served.handled.length
    expect(ran).toBeLessThan(40)
    await clock.advance(10_000)
    await waitFor(() => served.handle.stats().streamErrors['ack-backlog'] === 1, 10_000, 'reset')
    expect(cutOff).toEqual([expect.stringMatching(/did not read its acks for 10000 ms/)])
    expect(served.handled).toHaveLength(ran)
    expect(await wellBehaved(served, 20)).toHaveLength(20)
  })
})

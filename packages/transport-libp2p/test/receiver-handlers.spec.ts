import { DeliveryFailedError } from '@dntkit/core'
import { manualClock, testEntry } from '@dntkit/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type DntReceiver,
  dntReceiver,
  handleMessages,
  libp2pTransport,
  type RawMessage
} from '../src/index.js'
import {
  GOOD,
  headerOnly,
  hostileRawStream,
  hostileStream,
  RAW,
  serveBoth,
  wellBehavedRaw
} from './hostile-peer.js'
import { addrsOf, createNode, stopAll, waitFor } from './nodes.js'

afterEach(stopAll)

const KiB = 1024
const signal = () => AbortSignal.timeout(10_000)
const LATE = '/dntkit-test/late/1.0.0'

describe('receiver handlers', () => {
  it('a handler added after start: unknown-protocol before (nothing remembered), handled after', async () => {
    const receiver = await createNode<{ dntReceiver: DntReceiver }>({
      services: { dntReceiver: dntReceiver() }
    })
    const sender = await createNode()
    const transport = libp2pTransport(sender, { mode: 'envelope' })
    const entry = testEntry({
      peer: receiver.peerId.toString(),
      addrs: addrsOf(receiver),
      protocol: LATE,
      id: 'early-bird'
    })
    const early = transport.deliver(entry, { signal: signal() })
    await expect(early).rejects.toMatchObject({
      name: 'DeliveryFailedError',
      reason: 'unsupported-protocol'
    })
    const got: string[] = []
    await receiver.services.dntReceiver.handle(LATE, (message) => void got.push(message.id))
    // the same id again: it was not taken for processed
    await transport.deliver({ ...entry }, { signal: signal() })
    expect(got).toEqual(['early-bird'])
    expect(receiver.services.dntReceiver.stats()).toMatchObject({
      messages: 1,
      duplicates: 0,
      rejected: { 'unknown-protocol': 1 }
    })
    await transport.close()
  })

  it('a raw handler added after start is served; one removed is no longer', async () => {
    const receiver = await createNode<{ dntReceiver: DntReceiver }>({
      services: { dntReceiver: dntReceiver({ rawHandlers: {} }) }
    })
    const sender = await createNode()
    const transport = libp2pTransport(sender)
    const entry = () =>
      testEntry({ peer: receiver.peerId.toString(), addrs: addrsOf(receiver), protocol: LATE })
    await expect(transport.deliver(entry(), { signal: signal() })).rejects.toSatisfy(
      (error: unknown) => DeliveryFailedError.isInstance(error)
    )
    const got: RawMessage[] = []
    await receiver.services.dntReceiver.handleRaw(LATE, (message) => void got.push(message))
    await transport.deliver(entry(), { signal: signal() })
    expect(got.map((message) => message.protocol)).toEqual([LATE])
    await receiver.services.dntReceiver.unhandle(LATE)
    await expect(transport.deliver(entry(), { signal: signal() })).rejects.toMatchObject({
      name: 'DeliveryFailedError',
      code: 'DNT_DELIVERY_FAILED',
      reason: 'unsupported-protocol'
    })
    expect(got).toHaveLength(1)
    expect(receiver.services.dntReceiver.stats().raw.messages).toBe(1)
  })

  it('one memory budget over both modes: what raw streams hold counts against envelope frames', async () => {
    const served = await serveBoth({
      clock: manualClock(),
      maxMessageBytes: 256 * KiB,
      maxBufferedBytes: 1024 * KiB,
      maxBufferedBytesPerPeer: 1024 * KiB
    })
    const hostile = await createNode()
    for (let index = 0; index < 4; index++) {
      const raw = await hostileRawStream(hostile, served.node)
      raw.send(new Uint8Array(200 * KiB))
    }
    await waitFor(() => served.handle.stats().bufferedBytes === 800 * KiB, 10_000, '800 KiB held')
    const other = await createNode()
    const stream = await hostileStream(other, served.node)
    stream.send(headerOnly(0, 'no-room', GOOD, 250 * KiB))
    const [answer] = await stream.waitForAcks(1)
    expect(answer).toMatchObject({ status: 'try-later', code: 'over-budget' })
    expect(served.handle.stats().peakBufferedBytes).toBeLessThanOrEqual(1024 * KiB)
  })

  it('checks its options: unknown names, limits that cannot work together, handlers', async () => {
    expect(() => dntReceiver({ maxBuferedBytes: 1 } as never)).toThrow(
      /unknown receiver option "maxBuferedBytes"/
    )
    expect(() => dntReceiver({ maxBufferedBytes: 1024, maxBufferedBytesPerPeer: 2048 })).toThrow(
      /maxBufferedBytesPerPeer \(2048\) must not exceed maxBufferedBytes \(1024\)/
    )
    expect(() => dntReceiver({ maxBufferedBytes: 1024 * KiB })).toThrow(/must hold one frame/)
    expect(() => dntReceiver({ dedupe: { maxBytesPerPeer: 100 } })).toThrow(
      /dedupe.maxBytesPerPeer \(100\) must hold the longest id/
    )
    expect(() => dntReceiver({ dedupe: { maxEntriesPerPeer: 0 } })).toThrow(/maxEntriesPerPeer/)
    expect(() => dntReceiver({ dedupe: { maxBytes: 100 } })).toThrow(
      /dedupe.maxBytes \(100\) must hold the longest id/
    )
    expect(() => dntReceiver({ maxReplyBytes: -1 })).toThrow(
      /maxReplyBytes must be an integer from 0 to 8388608, got -1/
    )
    expect(() => dntReceiver({ maxReplyBytes: 8 * 1024 * KiB + 1 })).toThrow(/maxReplyBytes/)
    expect(() => dntReceiver({ rawHandlers: { [RAW]: 'nope' as never } })).toThrow(
      /rawHandlers\["\/dntkit-test\/raw\/1.0.0"\] must be a function/
    )
    const node = await createNode()
    const handle = await handleMessages(node, { rawHandlers: {} })
    await expect(async () => handle.handleRaw('/dntkit/envelope/1.0.0', () => {})).rejects.toThrow(
      /is the envelope protocol/
    )
    await handle()
  })

  it('stopping resets raw streams still being read and lets a running raw handler finish', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const served = await serveBoth({}, () => gate)
    const delivering = wellBehavedRaw(served, 1)
    await waitFor(() => served.raw.length === 1, 10_000, 'the handler to run')
    const reading = await hostileRawStream(await createNode(), served.node)
    reading.send(new Uint8Array(10))
    await waitFor(
      () => served.handle.stats().bufferedBytes === 10 + 'raw 0 '.length,
      10_000,
      'both held'
    )
    let stopped = false
    const stopping = served.handle().then(() => {
      stopped = true
    })
    await reading.ended
    expect(reading.reset()).toBe(true)
    expect(stopped).toBe(false)
    release()
    await stopping
    // the handler finished and the stream was closed cleanly: the sender saw a delivery
    expect(await delivering).toHaveLength(1)
    expect(served.handle.stats()).toMatchObject({ bufferedBytes: 0, raw: { messages: 1 } })
  })
})

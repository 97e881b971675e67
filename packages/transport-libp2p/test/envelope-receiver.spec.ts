import {
  DeliveryFailedError,
  DeliveryRejectedError,
  type Entry,
  memoryStore,
  Outbox,
  PeerUnreachableError
} from '@dntkit/core'
import { manualClock, testEntry } from '@dntkit/core/testing'
import type { Libp2p, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { type AckFrame, decodeAck, encodeMessageFrame, varintBytes } from '../src/envelope-codec.js'
import { FrameDecoder } from '../src/frame-decoder.js'
import {
  type DntReceiverInit,
  ENVELOPE_PROTOCOL,
  type EnvelopeHandle,
  type EnvelopeMessage,
  handleEnvelopes,
  libp2pTransport,
  MessageRefusedError,
  TryLaterError
} from '../src/index.js'
import { addrsOf, createNode, stopAll, waitFor } from './nodes.js'

const PROTOCOL = '/dntkit-test/envelope/1.0.0'
const signal = () => AbortSignal.timeout(5_000)

afterEach(stopAll)

interface Setup {
  sender: Libp2p
  receiver: Libp2p
  handled: EnvelopeMessage[]
  handle: EnvelopeHandle
  streamsOpened: () => number
  entry(overrides?: Partial<Entry>): Entry
}

async function setup(
  init: Partial<DntReceiverInit> = {},
  handler?: (message: EnvelopeMessage) => unknown
): Promise<Setup> {
  const sender = await createNode()
  const receiver = await createNode()
  const handled: EnvelopeMessage[] = []
  let streams = 0
  // counts the envelope streams the receiver serves
  const counting = {
    handle: (
      protocol: string,
      streamHandler: Parameters<Libp2p['handle']>[1],
      options?: Parameters<Libp2p['handle']>[2]
    ) =>
      receiver.handle(
        protocol,
        (stream, connection) => {
          streams++
          return streamHandler(stream, connection)
        },
        options
      ),
    unhandle: (protocol: string) => receiver.unhandle(protocol)
  }
  const handle = await handleEnvelopes(counting, {
    handlers: {
      [PROTOCOL]: async (message) => {
        handled.push(message)
        const result = await handler?.(message)
        return result instanceof Uint8Array ? result : undefined
      }
    },
    ...init
  })
  return {
    sender,
    receiver,
    handled,
    handle,
    streamsOpened: () => streams,
    entry: (overrides = {}) =>
      testEntry({
        peer: receiver.peerId.toString(),
        addrs: addrsOf(receiver),
        protocol: PROTOCOL,
        ...overrides
      })
  }
}

/** A hand-driven envelope stream, for frames the transport would never send. */
async function rawEnvelopeStream(sender: Libp2p, receiver: Libp2p) {
  const stream: Stream = await sender.dialProtocol(
    multiaddr(`${addrsOf(receiver)[0]}/p2p/${receiver.peerId}`),
    ENVELOPE_PROTOCOL
  )
  const acks: AckFrame[] = []
  const decoder = new FrameDecoder(4096)
  // settles when the receiver ended the stream, cleanly or by a reset
  const ended = (async () => {
    try {
      for await (const chunk of stream)
        for (const body of decoder.push(chunk)) acks.push(decodeAck(body))
    } catch {}
  })()
  return { stream, acks, ended }
}

describe('envelope mode', () => {
  it('hands the payload, id and meta to the handler and resolves after it', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const context = await setup({}, () => gate)
    const transport = libp2pTransport(context.sender, { mode: 'envelope' })
    let delivered = false
    const delivery = transport
      .deliver(
        context.entry({
          id: 'm-1',
          meta: { did: 'd1', dataType: 2 },
          payload: Buffer.from('hello')
        }),
        { signal: signal() }
      )
      .then(() => {
        delivered = true
      })
    await waitFor(() => context.handled.length === 1)
    expect(delivered).toBe(false) // the ack waits for the handler, which is held
    release()
    await delivery
    expect(context.handled[0]).toEqual({
      id: 'm-1',
      protocol: PROTOCOL,
      meta: { did: 'd1', dataType: 2 },
      payload: Uint8Array.from(Buffer.from('hello'))
    })
    await transport.close()
  })

  it('pipelines concurrent deliveries to one peer on a single stream, in order', async () => {
    const context = await setup()
    const transport = libp2pTransport(context.sender, { mode: 'envelope' })
    const entries = Array.from({ length: 200 }, (_, index) =>
      context.entry({ payload: Buffer.from(`#${index}`) })
    )
    await Promise.all(entries.map((entry) => transport.deliver(entry, { signal: signal() })))
    expect(context.handled.map((message) => message.id)).toEqual(entries.map((entry) => entry.id))
    expect(context.streamsOpened()).toBe(1)
    expect(transport.openSessions).toBe(1)
    await transport.close()
    expect(transport.openSessions).toBe(0)
  })

  it('calls the handler once for a message delivered again after a sender crash', async () => {
    const context = await setup()
    const duplicates: string[] = []
    context.handle.events.addEventListener('duplicate', (event) => duplicates.push(event.detail.id))
    const message = {
      peer: context.receiver.peerId.toString(),
      addrs: addrsOf(context.receiver),
      protocol: PROTOCOL,
      id: 'order-42',
      payload: Buffer.from('once')
    }

    const first = new Outbox({ transport: libp2pTransport(context.sender, { mode: 'envelope' }) })
    await first.start()
    expect(await first.send(message)).toMatchObject({ status: 'delivered' })
    await first.stop()

    // the sender died after the delivery, before the store deleted the entry: it comes back on restart
    const leftover = { ...testEntry({ ...message }), id: 'order-42' }
    const restarted = new Outbox({
      transport: libp2pTransport(context.sender, { mode: 'envelope' }),
      store: memoryStore({ entries: [leftover] })
    })
    await restarted.start()
    await restarted.whenDrained({ signal: signal() })
    expect(restarted.stats().totals.delivered).toBe(1)
    await restarted.stop()

    expect(context.handled.map((handled) => handled.id)).toEqual(['order-42'])
    expect(duplicates).toEqual(['order-42'])
  })

  it('runs a message once when the same id arrives on two streams at the same time', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const context = await setup({}, () => gate)
    const one = libp2pTransport(context.sender, { mode: 'envelope' })
    const two = libp2pTransport(context.sender, { mode: 'envelope' })
    const entry = context.entry({ id: 'same' })
    const both = Promise.all([
      one.deliver(entry, { signal: signal() }),
      two.deliver({ ...entry }, { signal: signal() })
    ])
    await waitFor(() => context.handled.length === 1)
    release()
    await both
    expect(context.handled).toHaveLength(1)
    await Promise.all([one.close(), two.close()])
  })

  it('keeps ids of different senders apart', async () => {
    const context = await setup()
    const other = await createNode()
    const transports = [
      libp2pTransport(context.sender, { mode: 'envelope' }),
      libp2pTransport(other, { mode: 'envelope' })
    ]
    for (const transport of transports)
      await transport.deliver(context.entry({ id: 'shared-id' }), { signal: signal() })
    expect(context.handled).toHaveLength(2)
    await Promise.all(transports.map((transport) => transport.close()))
  })

  it('a MessageRefusedError is final (DeliveryRejectedError, its reason); any other throw is retried', async () => {
    let calls = 0
    let failing = true
    const context = await setup({}, (message) => {
      calls++
      if (message.id.startsWith('bad'))
        throw new MessageRefusedError(`cannot store ${message.id}`, { reason: 'invalid-order' })
      if (failing) {
        // an unexpected error, even one with a string code: not a refusal
        const error = new Error('connect ECONNREFUSED 127.0.0.1:5432') as Error & { code: string }
        error.code = 'ECONNREFUSED'
        throw error
      }
    })
    const transport = libp2pTransport(context.sender, { mode: 'envelope' })
    const direct = transport.deliver(context.entry({ id: 'bad-1' }), { signal: signal() })
    await expect(direct).rejects.toSatisfy((error: unknown) =>
      DeliveryRejectedError.isInstance(error)
    )
    await expect(direct).rejects.toMatchObject({
      reason: 'invalid-order',
      message: expect.stringContaining('invalid-order: cannot store bad-1')
    })
    const flaky = transport.deliver(context.entry({ id: 'flaky' }), { signal: signal() })
    await expect(flaky).rejects.toSatisfy((error: unknown) => DeliveryFailedError.isInstance(error))
    await expect(flaky).rejects.toMatchObject({
      reason: 'handler-error',
      message: expect.stringContaining('ECONNREFUSED')
    })
    failing = false
    await transport.deliver(context.entry({ id: 'flaky' }), { signal: signal() })
    expect(context.handle.stats()).toMatchObject({
      messages: 1,
      rejected: { 'invalid-order': 1 },
      tryLater: { 'handler-error': 1 }
    })

    const outbox = new Outbox({ transport })
    await outbox.start()
    const abandoned: unknown[] = []
    outbox.addEventListener('abandoned', (event) => abandoned.push(event.detail))
    const sent = outbox.send({
      id: 'bad-2',
      peer: context.receiver.peerId.toString(),
      protocol: PROTOCOL,
      payload: new Uint8Array(1)
    })
    await expect(sent).rejects.toSatisfy((error: unknown) =>
      DeliveryRejectedError.isInstance(error)
    )
    expect(abandoned).toEqual([expect.objectContaining({ reason: 'rejected' })])
    expect(outbox.size).toBe(0)
    await outbox.flush()
    expect(calls).toBe(4)
    await outbox.stop()
    await transport.close()
  })

  it('gives up a stream whose ack does not come before the attempt times out; the retry uses a fresh one', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const context = await setup({}, (message) => (message.id === 'stuck' ? gate : undefined))
    const transport = libp2pTransport(context.sender, { mode: 'envelope' })
    const stuck = transport.deliver(context.entry({ id: 'stuck' }), {
      signal: AbortSignal.timeout(300)
    })
    await expect(stuck).rejects.toSatisfy((error: unknown) =>
      PeerUnreachableError.isInstance(error)
    )
    await expect(stuck).rejects.toThrow(/delivery aborted/)
    expect(transport.openSessions).toBe(0)
    release()
    await transport.deliver(context.entry({ id: 'next' }), { signal: signal() })
    expect(context.streamsOpened()).toBe(2)
    expect(context.handled.map((message) => message.id)).toEqual(['stuck', 'next'])
    await transport.close()
  })

  it('turns TryLaterError into DeliveryFailedError (reason try-later: this message is retried later)', async () => {
    const context = await setup({}, () => {
      throw new TryLaterError('database is down')
    })
    const transport = libp2pTransport(context.sender, { mode: 'envelope' })
    const attempt = transport.deliver(context.entry(), { signal: signal() })
    await expect(attempt).rejects.toSatisfy((error: unknown) =>
      DeliveryFailedError.isInstance(error)
    )
    await expect(attempt).rejects.toMatchObject({ reason: 'try-later' })
    await expect(attempt).rejects.toThrow(/database is down/)
    await transport.close()
  })

  it('fails an unknown inner protocol as unsupported (retried: the handler may come later)', async () => {
    const context = await setup()
    const transport = libp2pTransport(context.sender, { mode: 'envelope' })
    const attempt = transport.deliver(context.entry({ protocol: '/nobody/1.0.0' }), {
      signal: signal()
    })
    await expect(attempt).rejects.toMatchObject({
      name: 'DeliveryFailedError',
      reason: 'unsupported-protocol'
    })
    await transport.close()
  })

  it('rejects an oversized message, and the next message still goes through', async () => {
    const context = await setup({ maxMessageBytes: 1024 })
    const transport = libp2pTransport(context.sender, { mode: 'envelope' })
    const big = transport.deliver(context.entry({ payload: new Uint8Array(200_000) }), {
      signal: signal()
    })
    await expect(big).rejects.toMatchObject({ name: 'DeliveryRejectedError', reason: 'too-large' })
    await transport.deliver(context.entry({ payload: new Uint8Array(1024) }), { signal: signal() })
    expect(context.handled.map((message) => message.payload.byteLength)).toEqual([1024])
    await transport.close()
  })

  it('refuses an oversized frame from its length prefix, without waiting for (or buffering) its body', async () => {
    // time stands still: the answer cannot come from the idle timeout
    const context = await setup({ clock: manualClock() })
    const { stream, acks, ended } = await rawEnvelopeStream(context.sender, context.receiver)
    // announces 1 GiB, sends 3 bytes of it: a receiver that buffered would wait for the rest
    stream.send(varintBytes(1024 * 1024 * 1024))
    stream.send(Uint8Array.of(1, 0, 1))
    await waitFor(() => acks.length === 1, 5_000, 'the rejection ack')
    expect(acks[0]).toMatchObject({ sequence: 0, status: 'rejected', code: 'too-large' })
    await ended // the receiver closed the stream
    expect(context.handled).toEqual([])
  })

  it('cuts off a stream with a malformed frame, and nothing else suffers', async () => {
    const context = await setup()
    const errors: string[] = []
    context.handle.events.addEventListener('stream-error', (event) =>
      errors.push(event.detail.error.message)
    )
    const garbage = [
      Uint8Array.of(3, 9, 9, 9), // unknown frame type
      new Uint8Array(9).fill(0xff), // not a varint
      encodeMessageFrame({
        sequence: 5,
        id: 'x',
        protocol: PROTOCOL,
        payload: new Uint8Array(1)
      }).subarray() // wrong sequence
    ]
    for (const bytes of garbage) {
      const { stream, acks, ended } = await rawEnvelopeStream(context.sender, context.receiver)
      stream.send(bytes)
      await ended
      expect(acks).toEqual([])
      expect(stream.status).not.toBe('open')
    }
    expect(errors).toHaveLength(3)
    expect(errors[2]).toMatch(/sequence 5, expected 0/)
    const transport = libp2pTransport(context.sender, { mode: 'envelope' })
    await transport.deliver(context.entry(), { signal: signal() })
    expect(context.handled).toHaveLength(1)
    expect(context.receiver.status).toBe('started')
    await transport.close()
  })

  it('cuts off a silent sender, and one that trickles a frame, after the idle timeout', async () => {
    const clock = manualClock()
    const context = await setup({ idleTimeout: 300, clock })
    const silent = await rawEnvelopeStream(context.sender, context.receiver)
    const trickling = await rawEnvelopeStream(context.sender, context.receiver)
    const frame = encodeMessageFrame({
      sequence: 0,
      id: 'slow',
      protocol: PROTOCOL,
      payload: new Uint8Array(100)
    }).subarray()
    for (let offset = 0; offset < 5; offset++) {
      trickling.stream.send(frame.subarray(offset, offset + 1))
      await clock.advance(50)
    }
    expect(context.handle.stats().streamErrors.idle).toBeUndefined() // 250 ms: not yet
    await clock.advance(50)
    await Promise.all([silent.ended, trickling.ended])
    expect(context.handle.stats().streamErrors.idle).toBe(2)
    expect(context.handled).toEqual([])
  })

  it('answers try-later while it stops, after letting the running handler finish', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const context = await setup({}, () => gate)
    const transport = libp2pTransport(context.sender, { mode: 'envelope' })
    const first = transport.deliver(context.entry({ id: 'running' }), { signal: signal() })
    await waitFor(() => context.handled.length === 1)
    const second = transport.deliver(context.entry({ id: 'late' }), { signal: signal() })
    const stopping = context.handle()
    release()
    await first
    // answered try-later / stopping if the receiver read it before it stopped, else the stream
    // closes without its ack: either way this message failed and is retried
    const late = await second.then(
      () => undefined,
      (error: unknown) => error
    )
    expect(DeliveryFailedError.isInstance(late)).toBe(true)
    expect(['stopping', 'reset']).toContain((late as DeliveryFailedError).reason)
    await stopping
    expect(context.handled.map((message) => message.id)).toEqual(['running'])
    await transport.close()
  })
})

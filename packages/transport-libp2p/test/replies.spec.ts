import { DeliveryFailedError, DeliveryRejectedError, type Entry } from '@dntkit/core'
import { testEntry } from '@dntkit/core/testing'
import type { Libp2p } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type DntReceiverInit,
  handleMessages,
  type Libp2pTransportInit,
  libp2pTransport,
  type ReceiverHandle
} from '../src/index.js'
import { addrsOf, createNode, stopAll } from './nodes.js'

afterEach(stopAll)

const ENVELOPE = '/dntkit-test/ask/1.0.0'
const RAW = '/dntkit-test/ask-raw/1.0.0'
const signal = () => AbortSignal.timeout(10_000)
const KiB = 1024

/** Answers each message with what its payload asks for: `echo:TEXT`, `bytes:N`, `empty`, `nothing`, `number`. */
function answer(payload: Uint8Array): unknown {
  const text = Buffer.from(payload).toString()
  if (text.startsWith('echo:')) return Buffer.from(text.slice(5))
  if (text.startsWith('bytes:')) return new Uint8Array(Number(text.slice(6))).fill(7)
  if (text === 'empty') return new Uint8Array(0)
  if (text === 'number') return 42 // not bytes: no reply
  return undefined
}

interface Pair {
  sender: Libp2p
  receiver: Libp2p
  receiving: ReceiverHandle
  /** Handler runs per message id (envelope) or per payload (raw). */
  runs: Map<string, number>
  entry(payload: string, overrides?: Partial<Entry>): Entry
}

async function pair(init: Partial<DntReceiverInit> = {}): Promise<Pair> {
  const [sender, receiver] = await Promise.all([createNode(), createNode()])
  const runs = new Map<string, number>()
  const count = (key: string): void => {
    runs.set(key, (runs.get(key) ?? 0) + 1)
  }
  const receiving = await handleMessages(receiver, {
    handlers: {
      [ENVELOPE]: (message) => {
        count(message.id)
        return answer(message.payload) as Uint8Array | undefined
      }
    },
    rawHandlers: {
      [RAW]: (message) => {
        count(Buffer.from(message.payload).toString())
        return answer(message.payload) as Uint8Array | undefined
      }
    },
    ...init
  })
  return {
    sender,
    receiver,
    receiving,
    runs,
    entry: (payload, overrides = {}) =>
      testEntry({
        peer: receiver.peerId.toString(),
        addrs: addrsOf(receiver),
        protocol: ENVELOPE,
        payload: Buffer.from(payload),
        ...overrides
      })
  }
}

function transportOf(sender: Libp2p, init: Libp2pTransportInit = {}) {
  return libp2pTransport(sender, {
    mode: (entry) => (entry.protocol === RAW ? 'raw' : 'envelope'),
    ...init
  })
}

const text = (receipt: unknown): string | undefined => {
  const reply = (receipt as { reply?: Uint8Array }).reply
  return reply === undefined ? undefined : Buffer.from(reply).toString()
}

describe('envelope replies', () => {
  it('brings the handler reply back; an empty reply is one, anything but bytes is none', async () => {
    const context = await pair()
    const transport = transportOf(context.sender)
    const deliver = (payload: string) =>
      transport.deliver(context.entry(payload), { signal: signal() })
    expect(text(await deliver('echo:created 17'))).toBe('created 17')
    expect(await deliver('empty')).toEqual({ reply: new Uint8Array(0) })
    expect(await deliver('nothing')).toEqual({})
    expect(await deliver('number')).toEqual({})
    await transport.close()
  })

  it('answers a duplicate with the cached reply, without running the handler again', async () => {
    const context = await pair()
    const first = transportOf(context.sender)
    const entry = context.entry('echo:order 1', { id: 'order-1' })
    expect(text(await first.deliver(entry, { signal: signal() }))).toBe('order 1')
    await first.close()
    // a new stream, as after a lost ack: the same id again
    const second = transportOf(context.sender)
    expect(text(await second.deliver({ ...entry }, { signal: signal() }))).toBe('order 1')
    expect(context.runs.get('order-1')).toBe(1)
    expect(context.receiving.stats()).toMatchObject({
      messages: 1,
      duplicates: 1,
      dedupeReplies: 1,
      dedupeReplyBytes: 7
    })
    await second.close()
  })

  it('a reply given up from the cache over its byte quota: the duplicate is acked without it, and counted', async () => {
    const context = await pair({ maxIdBytes: 16, dedupe: { maxBytesPerPeer: 100 } })
    const transport = transportOf(context.sender)
    const deliver = (payload: string, id: string) =>
      transport.deliver(context.entry(payload, { id }), { signal: signal() })
    expect(text(await deliver('echo:first reply', 'a'))).toBe('first reply')
    // 60 + 60 reply bytes pass 100: the older reply is given up, its id is kept
    await deliver('bytes:60', 'b')
    await deliver('bytes:60', 'c')
    expect(await deliver('echo:first reply', 'a')).toEqual({})
    expect(await deliver('bytes:60', 'c')).toEqual({ reply: new Uint8Array(60).fill(7) })
    expect([...context.runs.values()]).toEqual([1, 1, 1])
    expect(context.receiving.stats()).toMatchObject({
      messages: 3,
      duplicates: 2,
      duplicatesWithoutReply: 1,
      dedupeRepliesDropped: 2,
      dedupeReplies: 1,
      dedupeReplyBytes: 60
    })
    await transport.close()
  })

  it('a reply over the receiver maxReplyBytes is refused for good (reply-too-large), the handler run once', async () => {
    const context = await pair({ maxReplyBytes: 100 })
    const transport = transportOf(context.sender)
    const entry = context.entry('bytes:101', { id: 'big' })
    for (let attempt = 0; attempt < 2; attempt++) {
      const delivery = transport.deliver({ ...entry }, { signal: signal() })
      await expect(delivery).rejects.toSatisfy((error: unknown) =>
        DeliveryRejectedError.isInstance(error)
      )
      await expect(delivery).rejects.toMatchObject({ reason: 'reply-too-large' })
    }
    expect(context.runs.get('big')).toBe(1)
    expect(await transport.deliver(context.entry('bytes:100'), { signal: signal() })).toEqual({
      reply: new Uint8Array(100).fill(7)
    })
    expect(context.receiving.stats().rejected['reply-too-large']).toBe(2)
    await transport.close()
  })

  it('an ack with a reply over the sender maxReplyBytes resets the stream: what was in flight fails, is retried', async () => {
    const context = await pair()
    const transport = transportOf(context.sender, { maxReplyBytes: 1_000 })
    const entries = [
      context.entry('bytes:10', { id: 'small' }),
      context.entry('bytes:1001', { id: 'over' }),
      context.entry('bytes:10', { id: 'behind' })
    ]
    const outcomes = await Promise.allSettled(
      entries.map((entry) => transport.deliver(entry, { signal: signal() }))
    )
    expect(outcomes[0]).toEqual({
      status: 'fulfilled',
      value: { reply: new Uint8Array(10).fill(7) }
    })
    expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: { reason: 'reset' } })
    expect(DeliveryFailedError.isInstance((outcomes[1] as PromiseRejectedResult).reason)).toBe(true)
    // the retry of what was behind it, on a fresh stream: the duplicate's cached reply
    const behind = entries[2] as Entry
    expect(await transport.deliver({ ...behind }, { signal: signal() })).toEqual({
      reply: new Uint8Array(10).fill(7)
    })
    expect(context.runs.get('behind')).toBe(1)
    await transport.close()
  })

  it('pipelines many large replies: handlers wait for the sender to read its acks, nothing is reset', async () => {
    const context = await pair()
    const transport = transportOf(context.sender)
    // 48 acks of 60 KiB: 2.9 MB, over the 2 MiB a receiver lets wait unread, answered by
    // handlers that return at once
    const replies = await Promise.all(
      Array.from({ length: 48 }, (_, index) =>
        transport.deliver(context.entry(`bytes:${60 * KiB + index}`), { signal: signal() })
      )
    )
    expect(replies.map((receipt) => (receipt as { reply: Uint8Array }).reply.byteLength)).toEqual(
      Array.from({ length: 48 }, (_, index) => 60 * KiB + index)
    )
    const stats = context.receiving.stats()
    expect(stats.messages).toBe(48)
    expect(stats.streamErrors).toEqual({})
    expect(stats.streamsAccepted).toBe(1)
    await transport.close()
  })
})

describe('raw replies', () => {
  it('remote-closed reads what the handler wrote before closing; written reads nothing', async () => {
    const context = await pair()
    const transport = transportOf(context.sender)
    const raw = (payload: string) => context.entry(payload, { protocol: RAW })
    expect(text(await transport.deliver(raw('echo:raw answer'), { signal: signal() }))).toBe(
      'raw answer'
    )
    // raw mode cannot tell an empty reply from none
    expect(await transport.deliver(raw('empty'), { signal: signal() })).toEqual({})
    expect(await transport.deliver(raw('nothing'), { signal: signal() })).toEqual({})
    const written = transportOf(context.sender, { rawSuccess: 'written' })
    expect(await written.deliver(raw('echo:unread'), { signal: signal() })).toEqual({})
    await Promise.all([transport.close(), written.close()])
  })

  it('a reply over either side maxReplyBytes fails the message (the receiver resets, the sender gives up)', async () => {
    const context = await pair({ maxReplyBytes: 2_000 })
    const transport = transportOf(context.sender, { maxReplyBytes: 1_000 })
    const raw = (payload: string) => context.entry(payload, { protocol: RAW })
    for (const payload of ['bytes:2001', 'bytes:1001']) {
      const delivery = transport.deliver(raw(payload), { signal: signal() })
      await expect(delivery).rejects.toSatisfy((error: unknown) =>
        DeliveryFailedError.isInstance(error)
      )
      await expect(delivery).rejects.toMatchObject({ reason: 'reset' })
    }
    await expect(transport.deliver(raw('bytes:1000'), { signal: signal() })).resolves.toEqual({
      reply: new Uint8Array(1000).fill(7)
    })
    expect(context.receiving.stats().raw.streamErrors).toEqual({ 'reply-too-large': 1 })
    await transport.close()
  })
})

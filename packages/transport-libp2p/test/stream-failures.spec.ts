import { DeliveryFailedError, definePolicy, memoryStore, Outbox } from '@dntkit/core'
import { testEntry } from '@dntkit/core/testing'
import type { Libp2p } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { type DeliveryMode, libp2pTransport } from '../src/index.js'
import { addrsOf, createNode, stopAll, waitFor } from './nodes.js'
import { scriptedReceiver } from './scripted-receiver.js'

const PROTOCOL = '/dntkit-test/poison/1.0.0'
const policy = definePolicy({
  levels: { moderate: { backoff: { type: 'fixed', interval: 20 } } },
  protocols: { [PROTOCOL]: 'moderate' }
})
const signal = () => AbortSignal.timeout(10_000)
const text = (payload: Uint8Array) => Buffer.from(payload).toString()

afterEach(stopAll)

/** A receiver that resets the stream of the message `poison` as it reads it, and takes every other one. */
async function poisonedReceiver(mode: DeliveryMode, into: string[]): Promise<Libp2p> {
  const node = await createNode()
  if (mode === 'raw') {
    await node.handle(PROTOCOL, async (stream) => {
      const chunks: Uint8Array[] = []
      for await (const chunk of stream) chunks.push(chunk.subarray())
      const payload = Buffer.concat(chunks).toString()
      if (payload === 'poison') {
        stream.abort(new Error('poison'))
        return
      }
      into.push(payload)
      await stream.close()
    })
  } else {
    await scriptedReceiver(node, (frame) => {
      if (text(frame.payload) === 'poison') return 'reset'
      into.push(text(frame.payload))
      return { status: 'ok' }
    })
  }
  return node
}

describe('a stream reset mid-message', () => {
  it.each(['raw', 'envelope'] as const)(
    '%s: costs that message only; the entries queued behind it are not charged',
    async (mode) => {
      const received: string[] = []
      const receiver = await poisonedReceiver(mode, received)
      const sender = await createNode()
      const transport = libp2pTransport(sender, { mode })
      const outbox = new Outbox({ transport, store: memoryStore(), policy, paused: true })
      const failures: Array<{ scope: string; error: unknown }> = []
      const delivered: Array<[string, number]> = []
      const abandoned: Array<[string, string, number]> = []
      outbox.addEventListener('attempt-failed', (event) => failures.push(event.detail))
      outbox.addEventListener('delivered', (event) =>
        delivered.push([text(event.detail.entry.payload), event.detail.attempts])
      )
      outbox.addEventListener('abandoned', (event) =>
        abandoned.push([
          text(event.detail.entry.payload),
          event.detail.reason,
          event.detail.entry.attempts
        ])
      )
      await outbox.start()
      const target = {
        peer: receiver.peerId.toString(),
        addrs: addrsOf(receiver),
        protocol: PROTOCOL
      }
      // queued in this order while paused: the poison is at the head of the peer's queue
      for (const payload of ['poison', 'a', 'b', 'c']) {
        expect((await outbox.send({ ...target, payload: Buffer.from(payload) })).status).toBe(
          'queued'
        )
      }
      outbox.resume()
      await outbox.whenDrained({ signal: signal() })
      expect(abandoned).toEqual([['poison', 'exhausted', 4]])
      expect(failures).toHaveLength(4)
      for (const failure of failures) {
        expect(failure.scope).toBe('message')
        expect(failure.error).toMatchObject({ name: 'DeliveryFailedError', reason: 'reset' })
      }
      // each delivered on its first attempt: the poison's failures were not charged to them
      expect(delivered).toEqual([
        ['a', 1],
        ['b', 1],
        ['c', 1]
      ])
      expect(received).toEqual(['a', 'b', 'c'])
      await outbox.stop()
      await transport.close()
    }
  )

  it('envelope: each frame in flight on a stream that resets fails on its own; frames not yet written go on a fresh stream', async () => {
    const receiver = await createNode()
    const served = await scriptedReceiver(receiver, (_frame, stream) => {
      if (stream !== served.streams[0]) return { status: 'ok' }
      // the first stream: hold the first two frames, reset while reading the third
      return stream.frames.length === 3 ? 'reset' : 'hold'
    })
    const sender = await createNode()
    const transport = libp2pTransport(sender, { mode: 'envelope', maxFramesInFlight: 3 })
    const target = {
      peer: receiver.peerId.toString(),
      addrs: addrsOf(receiver),
      protocol: PROTOCOL
    }
    const outcomes = await Promise.all(
      ['m1', 'm2', 'm3', 'm4', 'm5'].map((id) =>
        transport.deliver(testEntry({ ...target, id }), { signal: signal() }).then(
          () => 'delivered',
          (error: unknown) =>
            DeliveryFailedError.isInstance(error)
              ? `failed: ${(error as DeliveryFailedError).reason}`
              : `other: ${(error as Error).message}`
        )
      )
    )
    expect(outcomes).toEqual([
      'failed: reset',
      'failed: reset',
      'failed: reset',
      'delivered',
      'delivered'
    ])
    expect(served.streams.map((stream) => stream.frames.map((frame) => frame.id))).toEqual([
      ['m1', 'm2', 'm3'],
      ['m4', 'm5']
    ])
    await transport.close()
  })

  it('envelope: a receiver that closes its side with frames unanswered fails just those frames', async () => {
    const receiver = await createNode()
    let closed = false
    const served = await scriptedReceiver(receiver, (frame, stream) => {
      if (frame.id !== 'second') return { status: 'ok' }
      // answers nothing more and closes its side, as a receiver that stops reading does
      closed = true
      void stream.stream.close()
      return 'hold'
    })
    const sender = await createNode()
    const transport = libp2pTransport(sender, { mode: 'envelope' })
    const target = {
      peer: receiver.peerId.toString(),
      addrs: addrsOf(receiver),
      protocol: PROTOCOL
    }
    const first = transport.deliver(testEntry({ ...target, id: 'first' }), { signal: signal() })
    const second = transport.deliver(testEntry({ ...target, id: 'second' }), { signal: signal() })
    await first
    await expect(second).rejects.toMatchObject({ name: 'DeliveryFailedError', reason: 'reset' })
    await waitFor(() => closed)
    // the next message takes a fresh stream
    await transport.deliver(testEntry({ ...target, id: 'third' }), { signal: signal() })
    expect(served.streams).toHaveLength(2)
    await transport.close()
  })
})

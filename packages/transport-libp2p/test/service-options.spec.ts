import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { definePolicy, type Entry, memoryStore, type Store, type StoreNode } from '@dntkit/core'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { type Dnt, dnt, dntReceiver, type EnvelopeMessage, type RawMessage } from '../src/index.js'
import { addrsOf, createNode, fixedKey, portOf, stopAll, stopNode } from './nodes.js'

const PROTOCOL = '/dntkit-test/options/1.0.0'
const policy = definePolicy({
  levels: { critical: { backoff: { type: 'fixed', interval: 600_000 } } }
})

afterEach(stopAll)

function receiverNode(envelopes: EnvelopeMessage[], raw: RawMessage[] = []) {
  return createNode({
    services: {
      dntReceiver: dntReceiver({
        handlers: { [PROTOCOL]: (message) => void envelopes.push(message) },
        rawHandlers: { [PROTOCOL]: (message) => void raw.push(message) }
      })
    }
  })
}

/** A store that records what the node lent it, over a memory store. */
function lendingRecorder(): Store & { lent: StoreNode[] } {
  const inner = memoryStore()
  const lent: StoreNode[] = []
  return {
    lent,
    open: () => inner.open(),
    apply: (batch) => inner.apply(batch),
    close: () => inner.close(),
    useNode: (node) => void lent.push(node)
  }
}

describe('dnt() options', () => {
  it('unknown option names are a TypeError naming the option, at the call', () => {
    expect(() => dnt({ stor: memoryStore() } as never)).toThrow(
      new TypeError('dnt(): unknown option "stor"')
    )
    expect(() => dnt({ tagQueuedPeers: { nmae: 'x' } as never })).toThrow(/unknown option "nmae"/)
    expect(() => dntReceiver({ handler: {} } as never)).toThrow(/unknown receiver option "handler"/)
  })

  it("lends the store the node's private key and datastore before the store opens", async () => {
    const key = await fixedKey(41)
    const store = lendingRecorder()
    const node = await createNode<{ dnt: Dnt }>({
      privateKey: key,
      services: { dnt: dnt({ store }) }
    })
    expect(store.lent).toHaveLength(1)
    const [lent] = store.lent as [StoreNode]
    expect(lent.privateKey).toBe(key)
    expect(typeof (lent.datastore as { batch?: unknown }).batch).toBe('function')
    expect(node.services.dnt.outbox.entries()).toEqual([])
  })

  it('defaults to envelope mode (exactly-once pair with dntReceiver); raw is one option away', async () => {
    const envelopes: EnvelopeMessage[] = []
    const raw: RawMessage[] = []
    const receiver = await receiverNode(envelopes, raw)
    const target = { peer: receiver.peerId, addrs: receiver.getMultiaddrs(), protocol: PROTOCOL }
    const byDefault = await createNode<{ dnt: Dnt }>({ services: { dnt: dnt({ policy }) } })
    const first = await byDefault.services.dnt.send({ ...target, payload: new Uint8Array([1]) })
    expect(first.status).toBe('delivered')
    expect(envelopes.map((message) => message.id)).toEqual([first.id])
    expect(raw).toEqual([])

    const rawSender = await createNode<{ dnt: Dnt }>({
      services: { dnt: dnt({ policy, mode: 'raw' }) }
    })
    const second = await rawSender.services.dnt.send({ ...target, payload: new Uint8Array([2]) })
    expect(second.status).toBe('delivered')
    expect(raw.map((message) => Array.from(message.payload))).toEqual([[2]])
    expect(envelopes).toHaveLength(1)
  })

  it('declares its capability and that it needs a transport, as libp2p services do', async () => {
    await expect(
      createLibp2p({
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        services: { dnt: dnt() }
      })
    ).rejects.toThrow(/required capability "@libp2p\/transport"/)
    await expect(createLibp2p({ services: { dntReceiver: dntReceiver() } })).rejects.toThrow(
      /required capability "@libp2p\/transport"/
    )
  })
})

describe('dnt({ paused: true })', () => {
  it('queues without delivering until outbox.resume(), then delivers in order', async () => {
    const envelopes: EnvelopeMessage[] = []
    const receiver = await receiverNode(envelopes)
    const sender = await createNode<{ dnt: Dnt }>({
      services: { dnt: dnt({ policy, paused: true }) }
    })
    const service = sender.services.dnt
    const target = { peer: receiver.peerId, addrs: receiver.getMultiaddrs(), protocol: PROTOCOL }
    for (const text of ['one', 'two', 'three']) {
      const result = await service.send({ ...target, payload: new TextEncoder().encode(text) })
      expect(result.status).toBe('queued')
    }
    // nothing was attempted: no stream opened, nothing in flight, nothing received
    expect(service.transport.openSessions).toBe(0)
    expect(service.outbox.stats().inFlight).toBe(0)
    await service.outbox.flush()
    expect(receiver.services.dntReceiver.stats().messages).toBe(0)
    expect(service.outbox.entries()).toHaveLength(3)

    service.outbox.resume()
    await service.outbox.whenDrained({ signal: AbortSignal.timeout(10_000) })
    expect(envelopes.map((message) => new TextDecoder().decode(message.payload))).toEqual([
      'one',
      'two',
      'three'
    ])
  })

  it('entries restored at start wait too', async () => {
    const envelopes: EnvelopeMessage[] = []
    const key = await fixedKey(42)
    const down = await createNode({ privateKey: key })
    const port = portOf(down)
    const target = { peer: down.peerId.toString(), addrs: addrsOf(down), protocol: PROTOCOL }
    await stopNode(down)
    const store = memoryStore()
    const first = await createNode<{ dnt: Dnt }>({ services: { dnt: dnt({ policy, store }) } })
    expect((await first.services.dnt.send({ ...target, payload: new Uint8Array(1) })).status).toBe(
      'queued'
    )
    await first.stop()

    const receiver = await createNode({
      privateKey: key,
      port,
      services: {
        dntReceiver: dntReceiver({
          handlers: { [PROTOCOL]: (message) => void envelopes.push(message) }
        })
      }
    })
    const paused = await createNode<{ dnt: Dnt }>({
      services: { dnt: dnt({ policy, store, paused: true }) }
    })
    await receiver.dial(paused.getMultiaddrs())
    const restored: Entry[] = paused.services.dnt.outbox.entries()
    expect(restored).toHaveLength(1)
    await paused.services.dnt.outbox.flush()
    expect(receiver.services.dntReceiver.stats().messages).toBe(0)
    paused.services.dnt.outbox.resume()
    await paused.services.dnt.outbox.whenDrained({ signal: AbortSignal.timeout(10_000) })
    expect(envelopes).toHaveLength(1)
  })
})

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { definePolicy, StoreKeyMismatchError } from '@dntkit/core'
import { datastoreStore } from '@dntkit/store-datastore'
import { levelStore } from '@dntkit/store-level'
import { ClassicLevel } from 'classic-level'
import { LevelDatastore } from 'datastore-level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Dnt, dnt, dntReceiver, type EnvelopeMessage } from '../src/index.js'
import { addrsOf, createNode, fixedKey, portOf, stopAll, stopNode } from './nodes.js'

const PROTOCOL = '/dntkit-test/stores/1.0.0'
const policy = definePolicy({
  levels: { critical: { backoff: { type: 'fixed', interval: 600_000 } } }
})
const text = (payload: Uint8Array): string => new TextDecoder().decode(payload)

let directory: string

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'dntkit-service-stores-'))
})

afterEach(async () => {
  await stopAll()
  await rm(directory, { recursive: true, force: true })
})

/** A receiver that is down: its key, port and address, to bring it back later. */
async function downReceiver(seed: number) {
  const key = await fixedKey(seed)
  const node = await createNode({ privateKey: key })
  const port = portOf(node)
  const target = { peer: node.peerId.toString(), addrs: addrsOf(node), protocol: PROTOCOL }
  await stopNode(node)
  return { key, port, target }
}

function receiving(into: EnvelopeMessage[], dedupe?: ReturnType<typeof datastoreStore>) {
  return dntReceiver({
    handlers: { [PROTOCOL]: (message) => void into.push(message) },
    ...(dedupe === undefined ? {} : { dedupe: { store: dedupe } })
  })
}

describe("the store follows the node's identity", () => {
  it('levelStore({ location }) without a key: the same node reopens it; a new identity gets StoreKeyMismatchError', async () => {
    const received: EnvelopeMessage[] = []
    const down = await downReceiver(51)
    const location = join(directory, 'outbox')
    const senderKey = await fixedKey(52)
    const first = await createNode<{ dnt: Dnt }>({
      privateKey: senderKey,
      services: { dnt: dnt({ policy, store: levelStore({ location }) }) }
    })
    const queued = await first.services.dnt.send({ ...down.target, payload: new Uint8Array([7]) })
    expect(queued.status).toBe('queued')
    await stopNode(first)

    // libp2p's default: a new identity at every start, so the store cannot be opened
    const opening = createNode<{ dnt: Dnt }>({
      services: { dnt: dnt({ policy, store: levelStore({ location }) }) }
    })
    await expect(opening).rejects.toSatisfy((error) => StoreKeyMismatchError.isInstance(error))
    await expect(opening).rejects.toThrow(
      "the node's key differs from the one this store was written with"
    )

    const again = await createNode<{ dnt: Dnt }>({
      privateKey: senderKey,
      services: { dnt: dnt({ policy, store: levelStore({ location }) }) }
    })
    expect(again.services.dnt.outbox.entries().map((entry) => entry.id)).toEqual([queued.id])
    const receiver = await createNode({
      privateKey: down.key,
      port: down.port,
      services: { dntReceiver: receiving(received) }
    })
    await receiver.dial(again.getMultiaddrs())
    await again.services.dnt.outbox.whenDrained({ signal: AbortSignal.timeout(10_000) })
    expect(received.map((message) => message.id)).toEqual([queued.id])
  })

  it("datastoreStore() keeps the outbox and the receiver's dedupe window in the nodes' own datastores", async () => {
    const received: EnvelopeMessage[] = []
    const down = await downReceiver(53)
    const senderKey = await fixedKey(54)
    const senderData = new LevelDatastore(join(directory, 'sender'))
    const receiverData = new LevelDatastore(join(directory, 'receiver'))
    await senderData.open()
    await receiverData.open()
    try {
      const startSender = () =>
        createNode<{ dnt: Dnt }>({
          privateKey: senderKey,
          datastore: senderData,
          services: { dnt: dnt({ policy, store: datastoreStore() }) }
        })
      const startReceiver = () =>
        createNode({
          privateKey: down.key,
          port: down.port,
          datastore: receiverData,
          services: {
            dntReceiver: receiving(received, datastoreStore({ prefix: '/dntkit/dedupe' }))
          }
        })
      const first = await startSender()
      const message = { ...down.target, id: 'order-1', payload: new TextEncoder().encode('lamp') }
      expect((await first.services.dnt.send(message)).status).toBe('queued')
      const keys: string[] = []
      for await (const key of senderData.queryKeys({ prefix: '/dntkit/outbox' })) {
        keys.push(key.toString())
      }
      expect(keys.sort()).toEqual(['/dntkit/outbox/e/0000000000000000', '/dntkit/outbox/meta'])
      await stopNode(first)

      const sender = await startSender()
      expect(sender.services.dnt.outbox.entries().map((entry) => entry.id)).toEqual(['order-1'])
      const receiver = await startReceiver()
      await receiver.dial(sender.getMultiaddrs())
      await sender.services.dnt.outbox.whenDrained({ signal: AbortSignal.timeout(10_000) })
      expect(received.map((item) => text(item.payload))).toEqual(['lamp'])

      // the receiver restarts: its dedupe window, read back from its datastore, drops a resend
      await stopNode(receiver)
      const back = await startReceiver()
      await back.dial(sender.getMultiaddrs())
      expect((await sender.services.dnt.send({ ...message, id: 'order-1' })).status).toBe(
        'delivered'
      )
      // the sender itself remembers the delivery; a fresh sender (new memory) resends it
      await stopNode(sender)
      const fresh = await startSender()
      expect((await fresh.services.dnt.send(message)).status).toBe('delivered')
      expect(back.services.dntReceiver.stats().duplicates).toBe(1)
      expect(received).toHaveLength(1)
    } finally {
      await stopAll()
      await senderData.close()
      await receiverData.close()
    }
  })
})

describe('transactional outbox through the service', () => {
  it("createEntry() + levelStore().batchOperations() in the application's db.batch(), then adopt()", async () => {
    const received: EnvelopeMessage[] = []
    const receiver = await createNode({ services: { dntReceiver: receiving(received) } })
    const db = new ClassicLevel<string, string>(join(directory, 'app'), { valueEncoding: 'json' })
    await db.open()
    try {
      const store = levelStore({ db, prefix: 'outbox' })
      const sender = await createNode<{ dnt: Dnt }>({
        services: { dnt: dnt({ policy, store }) }
      })
      const { dnt: service } = sender.services
      // PeerId and Multiaddr objects, as libp2p hands them out
      const entry = service.createEntry({
        id: 'order-2',
        peer: receiver.peerId,
        addrs: receiver.getMultiaddrs(),
        protocol: PROTOCOL,
        payload: new TextEncoder().encode('desk')
      })
      expect(entry.peer).toBe(receiver.peerId.toString())
      await db.batch(
        [
          { type: 'put', key: 'order-2', value: JSON.stringify({ item: 'desk' }) },
          ...(await store.batchOperations([entry]))
        ],
        { sync: true }
      )
      expect(service.outbox.adopt([entry])).toBe(1)
      await service.outbox.whenDrained({ signal: AbortSignal.timeout(10_000) })
      expect(received.map((message) => [message.id, text(message.payload)])).toEqual([
        ['order-2', 'desk']
      ])
      expect(() =>
        service.createEntry(
          { peer: receiver.peerId, protocol: PROTOCOL, payload: new Uint8Array(1) },
          { level: 'moderate' }
        )
      ).toThrow(/level "moderate" does not persist/)
      await stopNode(sender)
      expect(await db.get('order-2')).toBe(JSON.stringify({ item: 'desk' }))
    } finally {
      await stopAll()
      await db.close()
    }
  })
})

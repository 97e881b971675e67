import { definePolicy, type Entry, memoryStore, type Store, type StoreBatch } from '@dntkit/core'
import { afterEach, describe, expect, it } from 'vitest'
import { type Dnt, dnt, dntReceiver, type EnvelopeMessage } from '../src/index.js'
import { createNode, fixedKey, portOf, stopAll, stopNode, waitFor } from './nodes.js'

const PROTOCOL = '/dntkit-test/abort/1.0.0'
const policy = definePolicy({
  levels: { critical: { backoff: { type: 'fixed', interval: 600_000 } } }
})

afterEach(stopAll)

/** A memory store whose writes wait while `hold()` is in force; `contents()` reads what it holds. */
function gatedStore(): Store & {
  hold(): () => void
  writes: number
  contents(): Promise<Entry[]>
} {
  const inner = memoryStore()
  let gate: Promise<void> | undefined
  const store = {
    writes: 0,
    open: () => inner.open(),
    close: () => inner.close(),
    async apply(batch: StoreBatch): Promise<void> {
      store.writes++
      await gate
      return inner.apply(batch)
    },
    hold(): () => void {
      let release!: () => void
      gate = new Promise<void>((resolve) => {
        release = resolve
      })
      return () => {
        gate = undefined
        release()
      }
    },
    async contents(): Promise<Entry[]> {
      await inner.close()
      const entries = (await inner.open()) as Entry[]
      return entries
    }
  }
  return store
}

async function downTarget(seed: number) {
  const key = await fixedKey(seed)
  const node = await createNode({ privateKey: key })
  const port = portOf(node)
  const target = { peer: node.peerId, addrs: node.getMultiaddrs(), protocol: PROTOCOL }
  await stopNode(node)
  return { key, port, target }
}

describe('send() with an AbortSignal (libp2p AbortOptions)', () => {
  it('aborted while the message is not yet durable: the call rejects and nothing of it is left', async () => {
    const down = await downTarget(61)
    const store = gatedStore()
    const sender = await createNode<{ dnt: Dnt }>({ services: { dnt: dnt({ policy, store }) } })
    const service = sender.services.dnt
    const release = store.hold()
    const controller = new AbortController()
    const sending = service.send(
      { ...down.target, id: 'never', payload: new Uint8Array([1]) },
      { signal: controller.signal }
    )
    // the first attempt failed (the peer is down); the write that would make it durable waits
    await waitFor(() => store.writes > 0, 10_000, 'the store write')
    controller.abort(new Error('the user went away'))
    await expect(sending).rejects.toThrow('the user went away')
    release()
    await waitFor(() => service.outbox.stats().pendingWrites === 0, 10_000, 'pending writes')
    expect(service.outbox.entries()).toEqual([])
    await stopNode(sender)
    expect(await store.contents()).toEqual([])
  })

  it('aborted while its first delivery is in flight: rejects, and the outbox keeps nothing to retry', async () => {
    const received: EnvelopeMessage[] = []
    let releaseHandler!: () => void
    const handling = new Promise<void>((resolve) => {
      releaseHandler = resolve
    })
    const receiver = await createNode({
      services: {
        dntReceiver: dntReceiver({
          handlers: {
            [PROTOCOL]: async (message) => {
              received.push(message)
              await handling
            }
          }
        })
      }
    })
    const store = gatedStore()
    const sender = await createNode<{ dnt: Dnt }>({ services: { dnt: dnt({ policy, store }) } })
    const service = sender.services.dnt
    const controller = new AbortController()
    const sending = service.send(
      {
        peer: receiver.peerId,
        addrs: receiver.getMultiaddrs(),
        protocol: PROTOCOL,
        payload: new Uint8Array([2])
      },
      { signal: controller.signal }
    )
    await waitFor(() => received.length === 1, 10_000, 'the handler')
    controller.abort(new Error('changed my mind'))
    await expect(sending).rejects.toThrow('changed my mind')
    releaseHandler()
    expect(service.outbox.entries()).toEqual([])
    await service.outbox.whenDrained({ signal: AbortSignal.timeout(10_000) })
    await stopNode(sender)
    expect(await store.contents()).toEqual([])
    expect(received).toHaveLength(1)
  })

  it('aborted after the message is durable: only the waiting stops, and it is delivered later', async () => {
    const received: EnvelopeMessage[] = []
    const down = await downTarget(62)
    const store = gatedStore()
    const sender = await createNode<{ dnt: Dnt }>({ services: { dnt: dnt({ policy, store }) } })
    const service = sender.services.dnt
    const controller = new AbortController()
    const result = await service.send(
      { ...down.target, id: 'kept', payload: new Uint8Array([3]) },
      { signal: controller.signal }
    )
    expect(result).toEqual({ id: 'kept', status: 'queued', nextAttemptAt: expect.any(Number) })
    controller.abort(new Error('too late'))
    // the same id again, aborted at once: the earlier answer, and the message stays
    const again = new AbortController()
    const resend = service.send(
      { ...down.target, id: 'kept', payload: new Uint8Array([3]) },
      { signal: again.signal }
    )
    again.abort(new Error('gone'))
    await expect(resend).resolves.toEqual({
      id: 'kept',
      status: 'queued',
      nextAttemptAt: result.nextAttemptAt
    })
    expect(service.outbox.entries().map((entry) => entry.id)).toEqual(['kept'])

    const receiver = await createNode({
      privateKey: down.key,
      port: down.port,
      services: {
        dntReceiver: dntReceiver({
          handlers: { [PROTOCOL]: (message) => void received.push(message) }
        })
      }
    })
    await receiver.dial(sender.getMultiaddrs())
    await service.outbox.whenDrained({ signal: AbortSignal.timeout(10_000) })
    expect(received.map((message) => message.id)).toEqual(['kept'])
  })
})

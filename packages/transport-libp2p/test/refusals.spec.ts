import { DeliveryRejectedError, memoryStore, Outbox, type SendResult } from '@dntkit/core'
import { testEntry } from '@dntkit/core/testing'
import type { Libp2p } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type Dnt,
  dnt,
  handleMessages,
  libp2pTransport,
  type ReceiverHandle
} from '../src/index.js'
import { addrsOf, createNode, stopAll } from './nodes.js'

const PROTOCOL = '/dntkit-test/guarded/1.0.0'
const signal = () => AbortSignal.timeout(10_000)

afterEach(stopAll)

/** What a send came to: its status, or the name and reason of what it threw. */
function outcome(sending: Promise<SendResult>): Promise<string> {
  return sending.then(
    (result) => result.status,
    (error: unknown) => `${(error as Error).name}: ${(error as { reason?: string }).reason}`
  )
}

const REFUSED = 'DeliveryRejectedError: unauthorized'

/** A receiver that takes messages from `friend` only. */
async function guarded(friend: Libp2p): Promise<{ node: Libp2p; receiving: ReceiverHandle }> {
  const node = await createNode()
  const receiving = await handleMessages(node, {
    handlers: { [PROTOCOL]: () => {} },
    allow: [friend.peerId.toString()]
  })
  return { node, receiving }
}

describe('a receiver that refuses the sender (allowlist)', () => {
  it('answers DeliveryRejectedError to every send: one after another, many at once, the same id again', async () => {
    const friend = await createNode()
    const { node, receiving } = await guarded(friend)
    const sender = await createNode()
    const transport = libp2pTransport(sender, { mode: 'envelope' })
    const outbox = new Outbox({ transport, store: memoryStore(), perPeerConcurrency: 64 })
    let failedAttempts = 0
    outbox.addEventListener('attempt-failed', () => failedAttempts++)
    await outbox.start()
    const target = { peer: node.peerId.toString(), addrs: addrsOf(node), protocol: PROTOCOL }
    const message = (index: number) => ({ ...target, payload: Buffer.from(`m${index}`) })

    const oneByOne: string[] = []
    for (let index = 0; index < 5; index++)
      oneByOne.push(await outcome(outbox.send(message(index))))
    expect(oneByOne).toEqual(Array(5).fill(REFUSED))

    // pipelined on one stream: the receiver stops reading after its first refusal
    const atOnce = await Promise.all(
      Array.from({ length: 40 }, (_, index) => outcome(outbox.send(message(100 + index))))
    )
    expect(atOnce).toEqual(Array(40).fill(REFUSED))

    const same = { ...message(999), id: 'same-id' }
    expect(await outcome(outbox.send(same))).toBe(REFUSED)
    expect(await outcome(outbox.send(same))).toBe(REFUSED)

    expect(failedAttempts).toBe(0)
    expect(outbox.size).toBe(0)
    // each send was answered by the receiver itself: a refused first attempt keeps nothing, so
    // the repeated id is a new attempt, refused again
    expect(receiving.stats().rejected.unauthorized).toBe(5 + 40 + 2)
    await outbox.stop()
    await transport.close()
  })

  it('transport level: frames written behind a refusal the receiver stopped reading at are written again, each refused', async () => {
    const friend = await createNode()
    const { node, receiving } = await guarded(friend)
    const sender = await createNode()
    const transport = libp2pTransport(sender, { mode: 'envelope', maxFramesInFlight: 8 })
    const target = { peer: node.peerId.toString(), addrs: addrsOf(node), protocol: PROTOCOL }
    const all = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        transport
          .deliver(testEntry({ ...target, id: `frame-${index}` }), { signal: signal() })
          .then(
            () => 'delivered',
            (error: unknown) => (DeliveryRejectedError.isInstance(error) ? 'rejected' : `${error}`)
          )
      )
    )
    expect(all).toEqual(Array(20).fill('rejected'))
    expect(receiving.stats().rejected.unauthorized).toBe(20)
    await transport.close()
  })

  it('through the dnt() service, as a libp2p user sends', async () => {
    const friend = await createNode()
    const { node } = await guarded(friend)
    const sender = await createNode<{ dnt: Dnt }>({
      services: { dnt: dnt({ mode: 'envelope', store: memoryStore() }) }
    })
    const target = { peer: node.peerId.toString(), addrs: addrsOf(node), protocol: PROTOCOL }
    const first = await outcome(sender.services.dnt.send({ ...target, payload: Buffer.from('1') }))
    const second = await outcome(sender.services.dnt.send({ ...target, payload: Buffer.from('1') }))
    const together = await Promise.all(
      ['a', 'b', 'c', 'd'].map((text) =>
        outcome(sender.services.dnt.send({ ...target, payload: Buffer.from(text) }))
      )
    )
    expect([first, second, ...together]).toEqual(Array(6).fill(REFUSED))
    expect(sender.services.dnt.outbox.size).toBe(0)
  })
})

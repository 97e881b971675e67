import { definePolicy, memoryStore, type SendResult } from '@dntkit/core'
import type { Libp2p } from '@libp2p/interface'
import { afterEach, expect, it } from 'vitest'
import { type Dnt, type DntReceiver, dnt, dntReceiver } from '../src/index.js'
import { addrsOf, createNode, fixedKey, portOf, stopAll, stopNode, waitFor } from './nodes.js'

const PROTOCOL = '/dntkit-test/restarts/1.0.0'
const COUNT = Number(process.env.DNT_RESTART_MESSAGES ?? 240)
const policy = definePolicy({ levels: { critical: { backoff: { type: 'fixed', interval: 25 } } } })

afterEach(stopAll)

it(`stops the receiving node and the sending node while ${COUNT} critical messages stream; each arrives exactly once`, async () => {
  const handled: string[] = []
  // the receiver's dedupe window survives its restarts (a persisted dedupe store)
  const dedupeStore = memoryStore()
  const receiverKey = await fixedKey(41)
  const startReceiver = (port = 0): Promise<Libp2p<{ dntReceiver: DntReceiver }>> =>
    createNode<{ dntReceiver: DntReceiver }>({
      privateKey: receiverKey,
      port,
      services: {
        dntReceiver: dntReceiver({
          handlers: { [PROTOCOL]: (message) => void handled.push(message.id) },
          dedupe: { store: dedupeStore },
          stopTimeout: 2_000
        })
      }
    })
  let receiver = await startReceiver()
  const port = portOf(receiver)
  const target = { peer: receiver.peerId.toString(), addrs: addrsOf(receiver), protocol: PROTOCOL }
  await stopNode(receiver)

  const outboxStore = memoryStore()
  const sender = await createNode<{ dnt: Dnt }>({
    services: { dnt: dnt({ mode: 'envelope', store: outboxStore, policy, stopTimeout: 2_000 }) }
  })
  const results: SendResult[] = []
  for (let index = 0; index < COUNT; index++) {
    results.push(
      await sender.services.dnt.send({ ...target, id: `m-${index}`, payload: Buffer.from([index]) })
    )
  }
  expect(results.every((result) => result.status === 'queued')).toBe(true)

  // the receiver comes up: the sender streams its backlog
  receiver = await startReceiver(port)
  await waitFor(() => handled.length >= COUNT / 4, 20_000, 'a quarter handled')
  // stopped while messages stream to it; a stop is bounded whatever is in flight
  await stopNode(receiver)
  const atReceiverStop = handled.length
  receiver = await startReceiver(port)
  await waitFor(() => handled.length >= atReceiverStop + COUNT / 4, 20_000, 'more handled')
  // now the sender stops mid-stream, and starts again from its store
  await sender.stop()
  expect(sender.status).toBe('stopped')
  await sender.start()
  await sender.services.dnt.outbox.whenDrained({ signal: AbortSignal.timeout(30_000) })

  const expected = Array.from({ length: COUNT }, (_, index) => `m-${index}`)
  expect([...handled].sort()).toEqual([...expected].sort())
  expect(new Set(handled).size).toBe(COUNT)
  // per-peer FIFO: the first arrivals come in the order they were sent
  expect(handled).toEqual(expected)
  expect(sender.services.dnt.outbox.size).toBe(0)
})

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { definePolicy, type Entry, memoryStore, Outbox } from '@dntkit/core'
import { levelStore } from '@dntkit/store-level'
import type { Libp2p } from '@libp2p/interface'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type Dnt,
  type DntReceiver,
  dnt,
  dntReceiver,
  type EnvelopeHandler,
  libp2pTransport,
  MessageRefusedError
} from '../src/index.js'
import { addrsOf, createNode, fixedKey, portOf, stopAll, stopNode, waitFor } from './nodes.js'

const PROTOCOL = '/dntkit-test/orders/1.0.0'
const RAW = '/dntkit-test/orders-raw/1.0.0'
/** Retries come from flush() and reconnects in these tests, never from the clock. */
const policy = definePolicy({
  levels: { critical: { backoff: { type: 'fixed', interval: 600_000 } } }
})
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
const text = (value: Uint8Array | undefined): string | undefined =>
  value === undefined ? undefined : new TextDecoder().decode(value)

let directory: string

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'dntkit-service-replies-'))
})

afterEach(async () => {
  await stopAll()
  await rm(directory, { recursive: true, force: true })
})

/** The reply of an order: `created <payload>`. */
const create: EnvelopeHandler = (message) => bytes(`created ${text(message.payload)}`)

/** A receiver that is down: its key, port and address, to bring it back later. */
async function downReceiver(seed: number) {
  const key = await fixedKey(seed)
  const node = await createNode({ privateKey: key })
  const port = portOf(node)
  const target = { peer: node.peerId.toString(), addrs: addrsOf(node), protocol: PROTOCOL }
  await stopNode(node)
  return { key, port, target }
}

describe('replies through the dnt() service', () => {
  it('send() returns the reply of a message delivered at once, in envelope and raw mode; the delivered event carries it', async () => {
    const receiver = await createNode<{ dntReceiver: DntReceiver }>({
      services: {
        dntReceiver: dntReceiver({
          handlers: { [PROTOCOL]: create },
          rawHandlers: { [RAW]: (message) => bytes(`raw ${text(message.payload)}`) }
        })
      }
    })
    const sender = await createNode<{ dnt: Dnt; raw: Dnt }>({
      services: { dnt: dnt({ policy }), raw: dnt({ policy, mode: 'raw' }) }
    })
    const events: Array<string | undefined> = []
    sender.services.dnt.outbox.addEventListener('delivered', (event) =>
      events.push(text(event.detail.reply))
    )
    const target = { peer: receiver.peerId, addrs: receiver.getMultiaddrs() }
    const sent = await sender.services.dnt.send({
      ...target,
      protocol: PROTOCOL,
      payload: bytes('lamp')
    })
    expect(sent).toMatchObject({ status: 'delivered' })
    expect(text(sent.reply)).toBe('created lamp')
    expect(events).toEqual(['created lamp'])
    const raw = await sender.services.raw.send({ ...target, protocol: RAW, payload: bytes('desk') })
    expect(text(raw.reply)).toBe('raw desk')
    // delivered at once: the reply went to send(), nothing is kept
    expect(sender.services.dnt.outbox.replies()).toEqual([])
  })

  it('a reply that comes after the sender restarted is kept in the level store until takeReply()', async () => {
    const down = await downReceiver(61)
    const senderKey = await fixedKey(62)
    const location = join(directory, 'outbox')
    const start = (paused = false) =>
      createNode<{ dnt: Dnt }>({
        privateKey: senderKey,
        services: { dnt: dnt({ policy, paused, store: levelStore({ location }) }) }
      })
    const first = await start()
    const queued = await first.services.dnt.send({ ...down.target, payload: bytes('chair') })
    expect(queued.status).toBe('queued')
    await stopNode(first)

    await createNode({
      privateKey: down.key,
      port: down.port,
      services: { dntReceiver: dntReceiver({ handlers: { [PROTOCOL]: create } }) }
    })
    const second = await start(true)
    const { outbox } = second.services.dnt
    const delivered: Array<[string, string | undefined]> = []
    outbox.addEventListener('delivered', (event) =>
      delivered.push([event.detail.entry.id, text(event.detail.reply)])
    )
    outbox.resume()
    await outbox.flush()
    await waitFor(() => delivered.length === 1, 10_000, 'the delivery')
    expect(delivered).toEqual([[queued.id, 'created chair']])
    expect(outbox.size).toBe(0)
    await stopNode(second)

    // nobody took it: the store kept it through the restart
    const third = await start()
    expect(
      third.services.dnt.outbox.replies().map((reply) => [reply.id, text(reply.reply)])
    ).toEqual([[queued.id, 'created chair']])
    expect(text(await third.services.dnt.outbox.takeReply(queued.id))).toBe('created chair')
    expect(third.services.dnt.outbox.replies()).toEqual([])
    await stopNode(third)
    const fourth = await start()
    expect(fourth.services.dnt.outbox.replies()).toEqual([])
  })

  it('a lost ack: the retry gets the same reply and the handler runs once, also after a receiver restart (dedupe store)', async () => {
    const receiverKey = await fixedKey(63)
    const dedupeAt = join(directory, 'dedupe')
    let runs = 0
    let node: Libp2p | undefined
    const handler: EnvelopeHandler = (message, from) => {
      runs++
      // processed, then the connection breaks before the ack leaves
      if (runs === 1)
        for (const connection of node?.getConnections() ?? [])
          connection.abort(new Error(`lost the ack to ${from}`))
      return bytes(`order ${text(message.payload)} is #${runs}`)
    }
    const startReceiver = async (port = 0) => {
      node = await createNode({
        privateKey: receiverKey,
        port,
        services: {
          dntReceiver: dntReceiver({
            handlers: { [PROTOCOL]: handler },
            dedupe: { store: levelStore({ location: dedupeAt }) }
          })
        }
      })
      return node
    }
    const receiver = await startReceiver()
    const sender = await createNode<{ dnt: Dnt }>({ services: { dnt: dnt({ policy }) } })
    const { outbox } = sender.services.dnt
    const target = {
      peer: receiver.peerId.toString(),
      addrs: addrsOf(receiver),
      protocol: PROTOCOL
    }
    const sent = await sender.services.dnt.send({ ...target, id: 'order-7', payload: bytes('7') })
    expect(sent.status).toBe('queued')
    await outbox.flush()
    await waitFor(() => outbox.replies().length === 1, 10_000, 'the retried delivery')
    expect(text(await outbox.takeReply('order-7'))).toBe('order 7 is #1')
    expect(runs).toBe(1)
    expect(
      (receiver as Libp2p<{ dntReceiver: DntReceiver }>).services.dntReceiver.stats()
    ).toMatchObject({
      messages: 1,
      duplicates: 1
    })

    // the receiver restarts; another outbox of the sender's node sends the same id again
    const port = portOf(receiver)
    await stopNode(receiver)
    const restarted = await startReceiver(port)
    const second = new Outbox({
      transport: libp2pTransport(sender, { mode: 'envelope' }),
      store: memoryStore()
    })
    await second.start()
    const again = await second.send({
      ...target,
      addrs: addrsOf(restarted),
      id: 'order-7',
      payload: bytes('7')
    })
    expect(again).toMatchObject({ status: 'delivered' })
    expect(text(again.reply)).toBe('order 7 is #1')
    expect(runs).toBe(1)
    await second.stop()
  })

  it('a critical message the handler refuses (MessageRefusedError) goes to the dead letters with its reason, never retried; a thrown bug is retried', async () => {
    const down = await downReceiver(64)
    const sender = await createNode<{ dnt: Dnt }>({
      privateKey: await fixedKey(65),
      services: { dnt: dnt({ policy, store: levelStore({ location: join(directory, 'outbox') }) }) }
    })
    const { outbox } = sender.services.dnt
    const refused = await sender.services.dnt.send({
      ...down.target,
      payload: bytes('no-such-customer')
    })
    const buggy = await sender.services.dnt.send({ ...down.target, payload: bytes('bug') })
    expect([refused.status, buggy.status]).toEqual(['queued', 'queued'])
    const runs: string[] = []
    await createNode({
      privateKey: down.key,
      port: down.port,
      services: {
        dntReceiver: dntReceiver({
          handlers: {
            [PROTOCOL]: (message) => {
              const payload = text(message.payload) as string
              runs.push(payload)
              if (payload === 'no-such-customer')
                throw new MessageRefusedError('customer 42 does not exist', {
                  reason: 'unknown-customer'
                })
              if (payload === 'bug' && runs.filter((run) => run === 'bug').length === 1)
                throw new TypeError("Cannot read properties of undefined (reading 'id')")
              return bytes('ok')
            }
          }
        })
      }
    })
    const left: Entry[] = []
    outbox.addEventListener('abandoned', (event) => left.push(event.detail.entry))
    outbox.addEventListener('delivered', (event) => left.push(event.detail.entry))
    // one round: the refusal is final, the bug fails this attempt only
    await outbox.flush()
    await waitFor(() => left.length === 1, 10_000, 'the refusal')
    // the next round: the bug was fixed meanwhile, the refused one is not tried again
    await outbox.flush()
    await waitFor(() => left.length === 2, 10_000, 'the retry')
    expect(runs).toEqual(['no-such-customer', 'bug', 'bug'])
    const [dead] = outbox.deadLetters()
    expect(dead).toMatchObject({ id: refused.id, deadLetter: { reason: 'rejected' } })
    expect(dead?.lastError).toContain('unknown-customer: customer 42 does not exist')
    expect(outbox.size).toBe(0)
    await outbox.flush()
    expect(runs).toHaveLength(3)
  })
})

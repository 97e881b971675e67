import { definePolicy, memoryStore } from '@dntkit/core'
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { afterEach, describe, expect, it } from 'vitest'
import { type Dnt, type DntInit, dnt, dntReceiver, type EnvelopeMessage } from '../src/index.js'
import { recordingMetrics } from './metrics-recorder.js'
import {
  addrsOf,
  createNode,
  fixedKey,
  type NodeOptions,
  portOf,
  stopAll,
  stopNode,
  waitFor
} from './nodes.js'

const PROTOCOL = '/dntkit-test/service/1.0.0'
const TAG = 'keep-alive-dntkit'
/** Long enough that only a reconnect explains a delivery during a test. */
const policy = definePolicy({
  levels: { critical: { backoff: { type: 'fixed', interval: 600_000 } } }
})

afterEach(stopAll)

async function receiverNode(into: EnvelopeMessage[], key?: PrivateKey, port?: number) {
  return createNode({
    ...(key == null ? {} : { privateKey: key }),
    ...(port == null ? {} : { port }),
    services: {
      dntReceiver: dntReceiver({ handlers: { [PROTOCOL]: (message) => void into.push(message) } })
    }
  })
}

async function senderNode(init: DntInit, metrics?: NodeOptions<{ dnt: Dnt }>['metrics']) {
  return createNode<{ dnt: Dnt }>({
    services: { dnt: dnt(init) },
    ...(metrics == null ? {} : { metrics })
  })
}

async function tagsOf(node: Libp2p, peer: PeerId): Promise<string[]> {
  try {
    return [...(await node.peerStore.get(peer)).tags.keys()]
  } catch {
    return []
  }
}

describe('dnt() service', () => {
  it('delivers end to end inside createLibp2p: node.services.dnt.send()', async () => {
    const received: EnvelopeMessage[] = []
    const receiver = await receiverNode(received)
    const sender = await senderNode({ mode: 'envelope', policy, store: memoryStore() })
    const result = await sender.services.dnt.send({
      peer: receiver.peerId.toString(),
      addrs: addrsOf(receiver),
      protocol: PROTOCOL,
      payload: Buffer.from('through the service'),
      meta: { user: 'alice' }
    })
    expect(result.status).toBe('delivered')
    expect(received).toHaveLength(1)
    expect(received[0]).toMatchObject({
      id: result.id,
      protocol: PROTOCOL,
      meta: { user: 'alice' }
    })
    expect(Buffer.from(received[0]!.payload).toString()).toBe('through the service')
  })

  it('queues for a peer that is down, tags it, flushes when it connects, untags it, and records metrics', async () => {
    const received: EnvelopeMessage[] = []
    const key = await fixedKey(31)
    const first = await receiverNode(received, key)
    const port = portOf(first)
    const target = { peer: first.peerId.toString(), addrs: addrsOf(first), protocol: PROTOCOL }
    await stopNode(first)

    const metrics = recordingMetrics()
    const sender = await senderNode({ mode: 'envelope', policy }, () => metrics)
    const service = sender.services.dnt
    for (let index = 0; index < 5; index++) {
      const result = await service.send({ ...target, payload: Buffer.from(`queued ${index}`) })
      expect(result.status).toBe('queued')
    }
    await waitFor(
      () => (metrics.values.get('dntkit_queue_depth') as Record<string, number>)?.critical === 5
    )
    const peerId = first.peerId
    await waitFor(async () => (await tagsOf(sender, peerId)).includes(TAG), 2_000, 'the tag')
    expect(metrics.values.get('dntkit_failed_attempts_total')).toBe(1)

    const back = await receiverNode(received, key, port)
    await back.dial(sender.getMultiaddrs())
    await service.outbox.whenDrained({ signal: AbortSignal.timeout(10_000) })
    expect(received.map((message) => Buffer.from(message.payload).toString())).toEqual(
      Array.from({ length: 5 }, (_, index) => `queued ${index}`)
    )
    await waitFor(async () => !(await tagsOf(sender, peerId)).includes(TAG))
    expect(metrics.values.get('dntkit_deliveries_total')).toBe(5)
    expect(metrics.values.get('dntkit_queue_depth')).toMatchObject({ critical: 0, moderate: 0 })
    const latency = metrics.values.get('dntkit_reaction_latency_seconds') as number[]
    expect(latency).toHaveLength(1)
    expect(latency[0]).toBeGreaterThanOrEqual(0)
    // no retry ran (the backoff is 10 minutes): the reaction to the connection delivered them
    expect(metrics.values.get('dntkit_failed_attempts_total')).toBe(1)
  })

  it('keeps persisted entries across a node restart and delivers them once the peer connects', async () => {
    const received: EnvelopeMessage[] = []
    const key = await fixedKey(32)
    const first = await receiverNode(received, key)
    const port = portOf(first)
    const target = { peer: first.peerId.toString(), addrs: addrsOf(first), protocol: PROTOCOL }
    await stopNode(first)

    const store = memoryStore()
    const sender = await senderNode({ mode: 'envelope', policy, store })
    expect(
      (await sender.services.dnt.send({ ...target, payload: Buffer.from('kept') })).status
    ).toBe('queued')
    await sender.stop()
    expect(sender.services.dnt.outbox.size).toBe(0)

    await sender.start()
    expect(sender.services.dnt.outbox.entries().map((entry) => entry.id)).toHaveLength(1)
    const back = await receiverNode(received, key, port)
    await back.dial(sender.getMultiaddrs())
    await sender.services.dnt.outbox.whenDrained({ signal: AbortSignal.timeout(10_000) })
    expect(received.map((message) => Buffer.from(message.payload).toString())).toEqual(['kept'])
  })

  it('works with @libp2p/prometheus-metrics', async () => {
    const received: EnvelopeMessage[] = []
    const receiver = await receiverNode(received)
    const sender = await senderNode(
      { mode: 'envelope' },
      prometheusMetrics({ collectDefaultMetrics: false })
    )
    const result = await sender.services.dnt.send({
      peer: receiver.peerId.toString(),
      addrs: addrsOf(receiver),
      protocol: PROTOCOL,
      payload: new Uint8Array(3)
    })
    expect(result.status).toBe('delivered')
  })
})

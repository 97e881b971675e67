import { definePolicy, memoryStore, Outbox } from '@dntkit/core'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { type DeliveryMode, handleEnvelopes, libp2pTransport } from '../src/index.js'
import { addrsOf, createNode, fixedKey, portOf, stopAll, stopNode, waitFor } from './nodes.js'

const PROTOCOL = '/dntkit-test/reconnect/1.0.0'
const COUNT = 30
/** So long that only the reconnect can explain a delivery within the test. */
const BACKOFF = 10 * 60_000

async function startReceiver(
  key: PrivateKey,
  port: number,
  mode: DeliveryMode,
  into: string[]
): Promise<Libp2p> {
  const node = await createNode({ privateKey: key, port })
  if (mode === 'raw') {
    await node.handle(PROTOCOL, async (stream) => {
      const chunks: Uint8Array[] = []
      for await (const chunk of stream) chunks.push(chunk.subarray())
      into.push(Buffer.concat(chunks).toString())
      await stream.close()
    })
  } else {
    await handleEnvelopes(node, {
      handlers: { [PROTOCOL]: (message) => void into.push(Buffer.from(message.payload).toString()) }
    })
  }
  return node
}

afterEach(stopAll)

describe.each(['raw', 'envelope'] as const)('receiver restart (%s mode)', (mode) => {
  it.each([true, false])(
    'queues while the receiver is down; reacting to connections: %s',
    async (react) => {
      const received: string[] = []
      const key = await fixedKey(mode === 'raw' ? 21 : 22)
      const first = await startReceiver(key, 0, mode, received)
      const port = portOf(first)
      const target = { peer: first.peerId.toString(), addrs: addrsOf(first), protocol: PROTOCOL }
      await stopNode(first)

      const sender = await createNode()
      const transport = libp2pTransport(sender, { mode, ...(react ? {} : { reachableOn: [] }) })
      const outbox = new Outbox({
        transport,
        store: memoryStore(),
        policy: definePolicy({
          levels: { critical: { backoff: { type: 'fixed', interval: BACKOFF } } }
        }),
        perPeerConcurrency: mode === 'envelope' ? 16 : 1
      })
      // what happened, in order: only the reaction to the connection can deliver before the 10-minute backoff
      const happened: string[] = []
      outbox.addEventListener('attempt-failed', () => happened.push('failed'))
      outbox.addEventListener('peer-reachable', () => happened.push('reachable'))
      outbox.addEventListener('delivered', () => happened.push('delivered'))
      await outbox.start()
      const results = []
      for (let index = 0; index < COUNT; index++) {
        results.push(await outbox.send({ ...target, payload: Buffer.from(`message ${index}`) }))
      }
      expect(results.every((result) => result.status === 'queued')).toBe(true)
      expect(outbox.size).toBe(COUNT)
      expect(received).toEqual([])

      const restarted = await startReceiver(key, port, mode, received)
      const identified = new Promise<void>((resolve) => {
        const onIdentify = (event: CustomEvent<{ peerId: { toString(): string } }>): void => {
          if (event.detail.peerId.toString() !== target.peer) return
          sender.removeEventListener('peer:identify', onIdentify)
          resolve()
        }
        sender.addEventListener('peer:identify', onIdentify)
      })
      // the receiver connects to the sender; the sender reacts to the connection
      await restarted.dial(sender.getMultiaddrs())
      if (!react) {
        // control: the sender saw the connection and identified the peer (the latest event it
        // could react to); without the reaction only the backoff timer (10 minutes) would deliver
        await identified
        await new Promise((resolve) => setImmediate(resolve))
        expect(happened).toEqual(['failed'])
        expect(received).toEqual([])
        expect(outbox.size).toBe(COUNT)
        await outbox.stop()
        return
      }
      // a generous bound against a hang; the backoff alone would take 10 minutes
      await outbox.whenDrained({ signal: AbortSignal.timeout(30_000) })
      await waitFor(() => received.length === COUNT, 10_000, 'all messages at the receiver')

      expect(received).toEqual(Array.from({ length: COUNT }, (_, index) => `message ${index}`))
      // one failed attempt while the receiver was down, then the reaction delivered everything
      expect(happened.filter((event) => event === 'failed')).toHaveLength(1)
      const firstDelivery = happened.indexOf('delivered')
      expect(happened.slice(0, firstDelivery)).toContain('reachable')
      expect(happened.slice(firstDelivery).every((event) => event !== 'failed')).toBe(true)
      expect(outbox.stats().totals.delivered).toBe(COUNT)
      await outbox.stop()
      await transport.close()
    }
  )
})

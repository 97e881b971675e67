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
      await outbox.start()
      const results = []
      for (let index = 0; index < COUNT; index++) {
        results.push(await outbox.send({ ...target, payload: Buffer.from(`message ${index}`) }))
      }
      expect(results.every((result) => result.status === 'queued')).toBe(true)
      expect(outbox.size).toBe(COUNT)
      expect(received).toEqual([])

      const restarted = await startReceiver(key, port, mode, received)
      const start = Date.now()
      // the receiver connects to the sender; the sender reacts to the connection
      await restarted.dial(sender.getMultiaddrs())
      if (!react) {
        // control: without the reaction only the backoff timer (10 minutes) would deliver
        await new Promise((resolve) => setTimeout(resolve, 500))
        expect(received).toEqual([])
        expect(outbox.size).toBe(COUNT)
        await outbox.stop()
        return
      }
      await outbox.whenDrained({ signal: AbortSignal.timeout(10_000) })
      const elapsed = Date.now() - start
      await waitFor(() => received.length === COUNT, 2_000, 'all messages at the receiver')

      expect(received).toEqual(Array.from({ length: COUNT }, (_, index) => `message ${index}`))
      expect(elapsed).toBeLessThan(5_000)
      expect(outbox.stats().totals.delivered).toBe(COUNT)
      await outbox.stop()
      await transport.close()
    }
  )
})

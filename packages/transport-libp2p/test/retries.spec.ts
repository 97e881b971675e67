import { DeliveryFailedError, definePolicy, memoryStore, Outbox } from '@dntkit/core'
import type { Libp2p } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { type DeliveryMode, handleMessages, libp2pTransport } from '../src/index.js'
import { addrsOf, createNode, stopAll, waitFor } from './nodes.js'

const LATE = '/dntkit-test/late/1.0.0'
const MODERATE = '/dntkit-test/moderate/1.0.0'
/** Short waits between retries: the tests count attempts, they never time them. */
const policy = definePolicy({
  levels: {
    critical: { backoff: { type: 'fixed', interval: 20 } },
    moderate: { backoff: { type: 'fixed', interval: 20 } }
  },
  protocols: { [MODERATE]: 'moderate' }
})
const drained = () => ({ signal: AbortSignal.timeout(15_000) })

afterEach(stopAll)

interface Recorded {
  failures: Array<{ scope: string; error: unknown }>
  abandoned: Array<{ reason: string; attempts: number }>
}

async function sending(mode: DeliveryMode) {
  const sender = await createNode()
  const transport = libp2pTransport(sender, { mode })
  const outbox = new Outbox({ transport, store: memoryStore(), policy })
  const recorded: Recorded = { failures: [], abandoned: [] }
  outbox.addEventListener('attempt-failed', (event) =>
    recorded.failures.push({ scope: event.detail.scope, error: event.detail.error })
  )
  outbox.addEventListener('abandoned', (event) =>
    recorded.abandoned.push({ reason: event.detail.reason, attempts: event.detail.entry.attempts })
  )
  await outbox.start()
  const stop = async (): Promise<void> => {
    await outbox.stop()
    await transport.close()
  }
  return { outbox, recorded, stop }
}

function unsupported(recorded: Recorded): boolean {
  return recorded.failures.every(
    ({ scope, error }) =>
      scope === 'message' &&
      DeliveryFailedError.isInstance(error) &&
      (error as DeliveryFailedError).reason === 'unsupported-protocol'
  )
}

const text = (payload: Uint8Array) => Buffer.from(payload).toString()

/** Ways a receiver can start serving `LATE` after it is already up. */
const lateHandlers: Array<
  [string, DeliveryMode, (node: Libp2p, into: string[]) => Promise<(node: Libp2p) => Promise<void>>]
> = [
  [
    'raw: no handler for the protocol yet',
    'raw',
    async (_node, into) => async (node) => {
      await node.handle(LATE, async (stream) => {
        const chunks: Uint8Array[] = []
        for await (const chunk of stream) chunks.push(chunk.subarray())
        into.push(Buffer.concat(chunks).toString())
        await stream.close()
      })
    }
  ],
  [
    'envelope: the node does not serve the envelope protocol yet',
    'envelope',
    async (_node, into) => async (node) => {
      await handleMessages(node, {
        handlers: { [LATE]: (message) => void into.push(text(message.payload)) }
      })
    }
  ],
  [
    'envelope: the receiver runs, its handler for the inner protocol comes later',
    'envelope',
    async (node, into) => {
      const receiving = await handleMessages(node, { handlers: {} })
      return async () => {
        await receiving.handle(LATE, (message) => void into.push(text(message.payload)))
      }
    }
  ]
]

describe('a protocol the receiver does not handle yet', () => {
  it.each(lateHandlers)(
    '%s: a critical message is retried until the handler is there',
    async (_name, mode, prepare) => {
      const receiver = await createNode()
      const received: string[] = []
      const register = await prepare(receiver, received)
      const { outbox, recorded, stop } = await sending(mode)
      const target = { peer: receiver.peerId.toString(), addrs: addrsOf(receiver), protocol: LATE }
      const sent = await outbox.send({ ...target, id: 'late-1', payload: Buffer.from('hello') })
      expect(sent.status).toBe('queued')
      await waitFor(() => recorded.failures.length >= 3, 15_000, 'three failed attempts')
      await register(receiver)
      await outbox.whenDrained(drained())
      // envelope mode: exactly once; raw mode: at least once, and nothing else
      if (mode === 'envelope') expect(received).toEqual(['hello'])
      else {
        expect(received.length).toBeGreaterThanOrEqual(1)
        expect(new Set(received)).toEqual(new Set(['hello']))
      }
      expect(unsupported(recorded)).toBe(true)
      expect(recorded.abandoned).toEqual([])
      expect(outbox.stats().totals.delivered).toBe(1)
      await stop()
    }
  )

  it.each(['raw', 'envelope'] as const)(
    '%s: a moderate message is tried once plus 3 retries, then abandoned',
    async (mode) => {
      const receiver = await createNode()
      // envelope: the receiver runs but has no handler for the protocol; raw: nothing is served
      if (mode === 'envelope') await handleMessages(receiver, { handlers: {} })
      const { outbox, recorded, stop } = await sending(mode)
      const target = {
        peer: receiver.peerId.toString(),
        addrs: addrsOf(receiver),
        protocol: MODERATE
      }
      const sent = await outbox.send({ ...target, payload: Buffer.from('maybe') })
      expect(sent.status).toBe('queued')
      await waitFor(() => recorded.abandoned.length === 1, 15_000, 'the entry to be abandoned')
      expect(recorded.failures).toHaveLength(4)
      expect(unsupported(recorded)).toBe(true)
      expect(recorded.abandoned).toEqual([{ reason: 'exhausted', attempts: 4 }])
      expect(outbox.size).toBe(0)
      await stop()
    }
  )
})

import { DeliveryFailedError, memoryStore } from '@dntkit/core'
import { manualClock, testEntry } from '@dntkit/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type DeliveryMode,
  type Dnt,
  type DntReceiver,
  dnt,
  dntReceiver,
  handleMessages,
  libp2pTransport
} from '../src/index.js'
import { addrsOf, createNode, stopAll, stopNode, waitFor } from './nodes.js'

const PROTOCOL = '/dntkit-test/stuck/1.0.0'
const signal = () => AbortSignal.timeout(20_000)
/** A handler that never settles. */
const never = (): Promise<void> => new Promise<void>(() => {})

afterEach(stopAll)

describe('a stop is bounded even when a handler never settles', () => {
  it.each(['envelope', 'raw'] as const)(
    '%s: handleMessages() stops after stopTimeout, resets the stream; the sender sees a failed message',
    async (mode: DeliveryMode) => {
      const clock = manualClock()
      const receiver = await createNode()
      let called = 0
      const stuck = (): Promise<void> => {
        called++
        return never()
      }
      const receiving = await handleMessages(receiver, {
        ...(mode === 'envelope'
          ? { handlers: { [PROTOCOL]: stuck } }
          : { rawHandlers: { [PROTOCOL]: stuck } }),
        stopTimeout: 3_000,
        clock
      })
      const sender = await createNode()
      const transport = libp2pTransport(sender, { mode })
      const target = {
        peer: receiver.peerId.toString(),
        addrs: addrsOf(receiver),
        protocol: PROTOCOL
      }
      const attempt = transport
        .deliver(testEntry({ ...target, id: 'stuck' }), { signal: signal() })
        .then(
          () => undefined,
          (error: unknown) => error
        )
      await waitFor(() => called === 1, 10_000, 'the handler to run')
      let stopped = false
      const stopping = receiving().then(() => {
        stopped = true
      })
      // time passes only when told: the stop completes once stopTimeout has passed on its clock
      await clock.advance(2_999)
      expect(stopped).toBe(false)
      await waitFor(
        async () => {
          await clock.advance(1_000)
          return stopped
        },
        10_000,
        'the stop'
      )
      await stopping
      const stats = receiving.stats()
      const errors = mode === 'envelope' ? stats.streamErrors : stats.raw.streamErrors
      expect(errors.stopped).toBe(1)
      const error = await attempt
      expect(DeliveryFailedError.isInstance(error)).toBe(true)
      expect((error as DeliveryFailedError).reason).toBe('reset')
      await transport.close()
    }
  )

  it('the dntReceiver service: node.stop() resolves with a handler still running', async () => {
    let called = 0
    const receiver = await createNode<{ dntReceiver: DntReceiver }>({
      services: {
        dntReceiver: dntReceiver({
          handlers: {
            [PROTOCOL]: () => {
              called++
              return never()
            }
          },
          stopTimeout: 100
        })
      }
    })
    const sender = await createNode()
    const transport = libp2pTransport(sender, { mode: 'envelope' })
    const target = {
      peer: receiver.peerId.toString(),
      addrs: addrsOf(receiver),
      protocol: PROTOCOL
    }
    const attempt = transport.deliver(testEntry(target), { signal: signal() }).catch(() => {})
    await waitFor(() => called === 1, 10_000, 'the handler to run')
    await stopNode(receiver)
    expect(receiver.status).toBe('stopped')
    expect(receiver.services.dntReceiver.stats().streamErrors.stopped).toBe(1)
    await attempt
    await transport.close()
  })

  it('the dnt() service: node.stop() resolves while its delivery waits on a stuck receiver; the message stays queued', async () => {
    let called = 0
    const receiver = await createNode()
    await handleMessages(receiver, {
      handlers: {
        [PROTOCOL]: () => {
          called++
          return never()
        }
      }
    })
    const store = memoryStore()
    const sender = await createNode<{ dnt: Dnt }>({
      services: { dnt: dnt({ mode: 'envelope', store, stopTimeout: 200 }) }
    })
    const target = {
      peer: receiver.peerId.toString(),
      addrs: addrsOf(receiver),
      protocol: PROTOCOL
    }
    const sending = sender.services.dnt.send({ ...target, id: 'waits', payload: new Uint8Array(1) })
    await waitFor(() => called === 1, 10_000, 'the handler to run')
    await stopNode(sender)
    expect(sender.status).toBe('stopped')
    await sending.catch(() => {})
    // nothing acknowledged, nothing lost: the entry is still in the store for the next start
    const kept: string[] = []
    for await (const entry of await store.open()) kept.push(entry.id)
    expect(kept).toEqual(['waits'])
    await store.close()
  })
})

import { describe, expect, it } from 'vitest'
import { manualClock } from '../src/testing/index.js'
import { memoryStore, Outbox, ocDiscoveryPreset } from '../src/index.js'
import { bytes, FakeTransport, PEER_A } from './helpers.js'

describe('smoke', () => {
  it('queues while down and delivers after the interval', async () => {
    const clock = manualClock()
    const transport = new FakeTransport()
    const store = memoryStore()
    const outbox = new Outbox({ transport, store, clock, policy: ocDiscoveryPreset({ critical: ['/create'] }) })
    await outbox.start()
    const result = await outbox.send({ peer: PEER_A, protocol: '/create', payload: bytes('x') })
    expect(result.status).toBe('queued')
    expect((await store.open()).length).toBe(1)
    transport.set(PEER_A, 'up')
    await clock.advance(15_000)
    expect(transport.deliveredTo(PEER_A)).toEqual([result.id])
    expect(await store.open()).toEqual([])
    await outbox.stop()
  })
})

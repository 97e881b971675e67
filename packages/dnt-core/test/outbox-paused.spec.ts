import { describe, expect, it } from 'vitest'
import { definePolicy } from '../src/index.js'
import { bytes, FakeTransport, PEER_A, PEER_B, record, startOutbox } from './helpers.js'

const policy = definePolicy({
  levels: {
    important: {
      persist: true,
      maxRetries: 0,
      onExhausted: 'dead-letter',
      backoff: { type: 'fixed', interval: 1_000 }
    }
  }
})

describe('paused outbox, queue counts, purge and requeue events', () => {
  it('a paused outbox loads, edits and reports its queue without attempting anything, until resume()', async () => {
    const first = await startOutbox({ policy })
    await first.outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('1') })
    await first.outbox.send({ peer: PEER_B, protocol: '/p', payload: bytes('2') })
    await first.outbox.stop()
    const transport = new FakeTransport()
    transport.set(PEER_A, 'up')
    transport.set(PEER_B, 'up')
    const { outbox, clock } = await startOutbox({
      policy,
      store: first.store,
      transport,
      clock: first.clock,
      paused: true
    })
    await clock.advance(10_000)
    expect(transport.calls).toEqual([])
    expect(outbox.queuedFor(PEER_A)).toBe(1)
    expect(outbox.stats().queued).toBe(2)
    await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('3') })
    expect(transport.calls).toEqual([])
    outbox.resume()
    await clock.advance(0)
    expect(transport.deliveredTo(PEER_A).length).toBe(2)
    expect(transport.deliveredTo(PEER_B).length).toBe(1)
    expect(outbox.queuedFor(PEER_A)).toBe(0)
    outbox.pause()
    await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('4') })
    await clock.advance(0)
    expect(transport.deliveredTo(PEER_A).length).toBe(2)
  })

  it('purge emits the removed entries; requeue emits queued', async () => {
    const { outbox, transport, clock } = await startOutbox({ policy })
    const events = record(outbox, 'purged', 'queued')
    const dead = await outbox.send(
      { peer: PEER_A, protocol: '/p', payload: bytes('d') },
      { level: 'important' }
    )
    expect(dead.status).toBe('abandoned')
    const kept = await outbox.send({ peer: PEER_B, protocol: '/p', payload: bytes('k') })
    events.length = 0
    expect(await outbox.purge({ peer: PEER_B })).toBe(1)
    expect(events).toEqual([
      { name: 'purged', detail: { entries: [expect.objectContaining({ id: kept.id })] } }
    ])
    events.length = 0
    transport.set(PEER_A, 'up')
    expect(await outbox.requeue([dead.id])).toBe(1)
    expect(events.map((event) => [event.name, event.detail.entry.id])).toEqual([
      ['queued', dead.id]
    ])
    await clock.advance(0)
    expect(transport.deliveredTo(PEER_A)).toEqual([dead.id])
  })
})

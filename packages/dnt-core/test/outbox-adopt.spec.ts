import { describe, expect, it } from 'vitest'
import { createEntry, DuplicateIdError } from '../src/index.js'
import { bytes, PEER_A, record, startOutbox } from './helpers.js'

describe('adopt(): entries the application wrote in its own batch', () => {
  it('queues them as durable, writes nothing, delivers them in order and deletes them', async () => {
    const { outbox, transport, clock, store } = await startOutbox()
    const events = record(outbox, 'queued')
    const entries = ['a', 'b'].map((id) =>
      createEntry({ id, peer: PEER_A, protocol: '/p', payload: bytes(id) }, 'critical', clock.now())
    )
    // the application's own batch, holding its record and the outbox entries together
    await store.inner.apply({ put: entries })
    expect(outbox.adopt(entries)).toBe(2)
    expect(store.batches).toEqual([])
    expect(events.map((event) => event.detail.entry.id)).toEqual(['a', 'b'])
    await clock.advance(0)
    expect(transport.attemptsTo(PEER_A)).toBe(1)
    transport.set(PEER_A, 'up')
    await outbox.flush()
    expect(transport.deliveredTo(PEER_A)).toEqual(['a', 'b'])
    await clock.advance(0)
    expect(outbox.stats().pendingWrites).toBe(0)
    expect(await store.contents()).toEqual([])
  })

  it('skips ids it holds with the same message, refuses another message under a held id', async () => {
    const { outbox, clock } = await startOutbox()
    const first = await outbox.send({ id: 'x', peer: PEER_A, protocol: '/p', payload: bytes('x') })
    expect(first.status).toBe('queued')
    const same = createEntry(
      { id: 'x', peer: PEER_A, protocol: '/p', payload: bytes('x') },
      'critical',
      clock.now()
    )
    expect(outbox.adopt([same])).toBe(0)
    const other = { ...same, payload: bytes('y') }
    expect(() => outbox.adopt([other])).toThrow(DuplicateIdError)
    expect(() => outbox.adopt([{ ...same, id: '' }])).toThrow(/entries\[0\]\.id/)
  })
})

import { describe, expect, it } from 'vitest'
import {
  definePolicy,
  MessageTooLargeError,
  Outbox,
  OutboxFullError,
  StoreUnavailableError
} from '../src/index.js'
import { bytes, FakeTransport, PEER_A, PEER_B, record, startOutbox } from './helpers.js'

const fixed = (interval: number) => ({ type: 'fixed' as const, interval })
const policy = definePolicy({ levels: { critical: { backoff: fixed(1_000) } } })

describe('store use (semantics 6 and 7)', () => {
  it('concurrent sends coalesce: at most one apply in flight, the next batch gathers the rest', async () => {
    const { outbox, store, transport, clock } = await startOutbox({ policy })
    store.hold()
    const sends = Array.from({ length: 100 }, (_, index) =>
      outbox.send({
        peer: index % 2 ? PEER_A : PEER_B,
        protocol: '/p',
        payload: bytes(String(index))
      })
    )
    // every promise chain runs to its next wait: both peers tried, the first batch held at the store
    await clock.advance(0)
    expect(transport.calls.length).toBe(2)
    expect(store.applying).toBe(1)
    store.release()
    const results = await Promise.all(sends)
    expect(results.every((result) => result.status === 'queued')).toBe(true)
    expect(store.maxConcurrentApplies).toBe(1)
    expect(store.batches.length).toBeLessThanOrEqual(3)
    expect((await store.contents()).length).toBe(100)
  })

  it('a retry that changes nothing durable writes nothing', async () => {
    const { outbox, clock, store } = await startOutbox({ policy })
    await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('x') })
    const written = store.batches.length
    for (let tick = 0; tick < 20; tick++) await clock.advance(1_000)
    expect(store.batches.length).toBe(written)
  })

  it('an entry leaves the store only once delivered', async () => {
    const { outbox, transport, clock, store } = await startOutbox({ policy })
    const { id } = await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('x') })
    transport.set(PEER_A, 'hang')
    await clock.advance(1_000)
    expect((await store.contents()).map((entry) => entry.id)).toEqual([id])
    transport.releaseHanging()
    transport.set(PEER_A, 'up')
    await clock.advance(1_000)
    expect(transport.deliveredTo(PEER_A)).toEqual([id])
    expect(await store.contents()).toEqual([])
  })

  it('stop leaves persisted entries in the store; start restores and delivers them in order', async () => {
    const first = await startOutbox({ policy })
    const ids: string[] = []
    for (let index = 0; index < 5; index++) {
      ids.push(
        (await first.outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes(String(index)) }))
          .id
      )
    }
    await first.outbox.send(
      { peer: PEER_A, protocol: '/p', payload: bytes('m') },
      { level: 'moderate' }
    )
    await first.outbox.stop()
    expect((await first.store.contents()).map((entry) => entry.id)).toEqual(ids)
    const transport = new FakeTransport()
    transport.set(PEER_A, 'up')
    const second = await startOutbox({ policy, store: first.store, transport, clock: first.clock })
    expect(second.outbox.size).toBe(5)
    // the stored backoff is respected across the restart
    await second.clock.advance(999)
    expect(transport.deliveredTo(PEER_A)).toEqual([])
    await second.clock.advance(1)
    expect(transport.deliveredTo(PEER_A)).toEqual(ids)
    expect(await first.store.contents()).toEqual([])
  })

  it('a process that dies mid-attempt leaves every accepted entry in the store (at-least-once)', async () => {
    const { outbox, transport, clock, store } = await startOutbox({ policy })
    const ids = []
    for (let index = 0; index < 3; index++) {
      ids.push(
        (await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes(String(index)) })).id
      )
    }
    transport.set(PEER_A, 'hang')
    await clock.advance(1_000)
    // "crash": the outbox is dropped without stop(); a new one opens the same store
    const next = new FakeTransport()
    next.set(PEER_A, 'up')
    const restarted = new Outbox({ transport: next, store, clock, policy })
    await restarted.start()
    await restarted.flush()
    expect(next.deliveredTo(PEER_A)).toEqual(ids)
  })

  it('a failing store: store-error, persisted sends refused, queued entries kept, recovery', async () => {
    const { outbox, transport, clock, store } = await startOutbox({ policy })
    const events = record(outbox, 'store-error')
    const kept = await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('kept') })
    store.failing = true
    await expect(
      outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('lost') })
    ).rejects.toSatisfy((error) => StoreUnavailableError.isInstance(error))
    expect(events.map((event) => event.detail.recovered)).toEqual([false])
    await expect(
      outbox.send({ peer: PEER_B, protocol: '/p', payload: bytes('no') })
    ).rejects.toThrow(/store is failing/)
    // memory-only levels still work
    await expect(
      outbox.send({ peer: PEER_B, protocol: '/p', payload: bytes('m') }, { level: 'moderate' })
    ).resolves.toMatchObject({ status: 'queued' })
    expect(outbox.entries({ peer: PEER_A }).map((entry) => entry.id)).toEqual([kept.id])
    store.failing = false
    await clock.advance(1_000)
    expect(outbox.stats().storeHealthy).toBe(true)
    expect(events.map((event) => event.detail.recovered)).toEqual([false, true])
    await expect(
      outbox.send({ peer: PEER_B, protocol: '/p', payload: bytes('ok') })
    ).resolves.toMatchObject({
      status: 'queued'
    })
    transport.set(PEER_A, 'up')
    await outbox.flush(PEER_A)
    expect(transport.deliveredTo(PEER_A)).toEqual([kept.id])
    expect((await store.contents()).some((entry) => entry.id === kept.id)).toBe(false)
  })
})

describe('capacity limits (semantics 9)', () => {
  it('rejects with OutboxFullError when full, globally and per peer, and evicts nothing', async () => {
    const { outbox, store } = await startOutbox({
      policy,
      limits: { maxEntries: 5, maxEntriesPerPeer: 3 }
    })
    for (let index = 0; index < 3; index++)
      await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('a') })
    await expect(
      outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('a') })
    ).rejects.toSatisfy(
      (error) => OutboxFullError.isInstance(error) && (error as Error).message.includes(PEER_A)
    )
    await outbox.send({ peer: PEER_B, protocol: '/p', payload: bytes('b') })
    await outbox.send({ peer: PEER_B, protocol: '/p', payload: bytes('b') })
    await expect(
      outbox.send({ peer: 'other', protocol: '/p', payload: bytes('c') })
    ).rejects.toThrow(OutboxFullError)
    expect((await store.contents()).length).toBe(5)
  })

  it('limits bytes, and payload size before anything is stored', async () => {
    const { outbox, store } = await startOutbox({
      policy,
      limits: { maxBytes: 10, maxPayloadBytes: 8 }
    })
    await expect(
      outbox.send({ peer: PEER_A, protocol: '/p', payload: new Uint8Array(9) })
    ).rejects.toSatisfy((error) => MessageTooLargeError.isInstance(error))
    await outbox.send({ peer: PEER_A, protocol: '/p', payload: new Uint8Array(8) })
    await expect(
      outbox.send({ peer: PEER_A, protocol: '/p', payload: new Uint8Array(3) })
    ).rejects.toThrow(OutboxFullError)
    expect((await store.contents()).length).toBe(1)
  })
})

describe('events, stats, purge (semantics 10)', () => {
  it('emits typed events and counts by level, peer and protocol', async () => {
    const { outbox, transport, clock } = await startOutbox({ policy })
    const events = record(outbox, 'queued', 'delivered', 'attempt-failed', 'drained')
    await outbox.send({ peer: PEER_A, protocol: '/a', payload: bytes('12345') })
    await outbox.send(
      { peer: PEER_A, protocol: '/b', payload: bytes('123') },
      { level: 'moderate' }
    )
    await outbox.send({ peer: PEER_B, protocol: '/a', payload: bytes('1') })
    await clock.advance(500)
    const stats = outbox.stats()
    expect(stats).toMatchObject({
      queued: 3,
      bytes: 9,
      peers: 2,
      oldestAge: 500,
      byLevel: { critical: { entries: 2, bytes: 6 }, moderate: { entries: 1, bytes: 3 } },
      byPeer: { [PEER_A]: { entries: 2, bytes: 8 }, [PEER_B]: { entries: 1, bytes: 1 } },
      byProtocol: { '/a': { entries: 2, bytes: 6 }, '/b': { entries: 1, bytes: 3 } },
      totals: { delivered: 0, failedAttempts: 2 }
    })
    transport.set(PEER_A, 'up')
    transport.set(PEER_B, 'up')
    await clock.advance(1_000)
    expect(outbox.stats()).toMatchObject({
      queued: 0,
      bytes: 0,
      oldestAge: null,
      totals: { delivered: 3 }
    })
    expect(events.map((event) => event.name)).toEqual([
      'attempt-failed',
      'queued',
      'queued',
      'attempt-failed',
      'queued',
      'delivered',
      'delivered',
      'delivered',
      'drained'
    ])
  })

  it('purges by id, by peer and all, from memory and store', async () => {
    const { outbox, store } = await startOutbox({ policy })
    const a1 = await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('1') })
    await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('2') })
    await outbox.send({ peer: PEER_B, protocol: '/p', payload: bytes('3') })
    expect(await outbox.purge({ ids: [a1.id] })).toBe(1)
    expect(await outbox.purge({ peer: PEER_B })).toBe(1)
    expect((await store.contents()).length).toBe(1)
    expect(await outbox.purge({ all: true })).toBe(1)
    expect(await store.contents()).toEqual([])
    expect(outbox.size).toBe(0)
  })
})

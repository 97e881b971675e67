import { describe, expect, it } from 'vitest'
import {
  DeliveryRejectedError,
  definePolicy,
  OutboxStoppedError,
  PeerUnreachableError
} from '../src/index.js'
import { bytes, PEER_A, PEER_B, record, startOutbox } from './helpers.js'

const policy = definePolicy({
  protocols: { '/search': 'none', '/verify': 'moderate', '/create': 'critical' }
})

describe('Outbox.send (semantics 1 and 2)', () => {
  it('level none: one attempt, the error goes to the caller, nothing is kept', async () => {
    const { outbox, transport, store } = await startOutbox({ policy })
    await expect(
      outbox.send({ peer: PEER_A, protocol: '/search', payload: bytes('q') })
    ).rejects.toSatisfy((error) => PeerUnreachableError.isInstance(error))
    expect(transport.attemptsTo(PEER_A)).toBe(1)
    expect(outbox.size).toBe(0)
    expect(store.batches).toEqual([])
    transport.set(PEER_A, 'up')
    await expect(
      outbox.send({ peer: PEER_A, protocol: '/search', payload: bytes('q') })
    ).resolves.toMatchObject({
      status: 'delivered'
    })
  })

  it('delivers at once when the peer is up, without touching the store', async () => {
    const { outbox, transport, store } = await startOutbox({ policy })
    transport.set(PEER_A, 'up')
    const result = await outbox.send({ peer: PEER_A, protocol: '/create', payload: bytes('a') })
    expect(result.status).toBe('delivered')
    expect(transport.deliveredTo(PEER_A)).toEqual([result.id])
    expect(store.batches).toEqual([])
  })

  it('queues a failed first attempt and resolves queued only after the store batch is durable', async () => {
    const { outbox, store, clock } = await startOutbox({ policy })
    store.hold()
    let settled = false
    const sending = outbox
      .send({ peer: PEER_A, protocol: '/create', payload: bytes('a') })
      .then((result) => {
        settled = true
        return result
      })
    // every promise chain runs to its next wait: the attempt failed, its batch is held at the store
    await clock.advance(0)
    expect(store.applying).toBe(1)
    expect(settled).toBe(false)
    expect(await store.contents()).toEqual([])
    store.release()
    const result = await sending
    expect(result.status).toBe('queued')
    expect((await store.contents()).map((entry) => entry.id)).toEqual([result.id])
  })

  it('queues behind a peer that already has queued entries, without a new attempt', async () => {
    const { outbox, transport } = await startOutbox({ policy })
    await outbox.send({ peer: PEER_A, protocol: '/create', payload: bytes('1') })
    transport.set(PEER_A, 'up')
    // still backing off: the second message must wait behind the first, not overtake it
    const second = await outbox.send({ peer: PEER_A, protocol: '/create', payload: bytes('2') })
    expect(second.status).toBe('queued')
    expect(transport.attemptsTo(PEER_A)).toBe(1)
  })

  it('queues in memory only for a level that does not persist', async () => {
    const { outbox, store } = await startOutbox({ policy })
    const result = await outbox.send({ peer: PEER_A, protocol: '/verify', payload: bytes('v') })
    expect(result.status).toBe('queued')
    expect(store.batches).toEqual([])
    expect(outbox.entries().map((entry) => entry.level)).toEqual(['moderate'])
  })

  it('never retries a DeliveryRejectedError; the first attempt hands it to the caller', async () => {
    const { outbox, transport, clock } = await startOutbox({ policy })
    transport.set(PEER_A, 'reject')
    await expect(
      outbox.send({ peer: PEER_A, protocol: '/create', payload: bytes('x') })
    ).rejects.toSatisfy((error) => DeliveryRejectedError.isInstance(error))
    await clock.advance(3_600_000)
    expect(transport.attemptsTo(PEER_A)).toBe(1)
    expect(outbox.size).toBe(0)
    expect(outbox.deadLetters()).toEqual([])
  })

  it('a queued entry that is later rejected is abandoned into the dead-letter list', async () => {
    const { outbox, transport, clock, store } = await startOutbox({ policy })
    const events = record(outbox, 'abandoned')
    const { id } = await outbox.send({ peer: PEER_A, protocol: '/create', payload: bytes('x') })
    transport.set(PEER_A, 'reject')
    await clock.advance(10 * 60_000)
    expect(transport.attemptsTo(PEER_A)).toBe(2)
    expect(events.map((event) => event.detail.reason)).toEqual(['rejected'])
    expect(outbox.deadLetters().map((entry) => [entry.id, entry.deadLetter?.reason])).toEqual([
      [id, 'rejected']
    ])
    expect((await store.contents())[0]?.deadLetter?.reason).toBe('rejected')
  })

  it('uses a caller id as an idempotency key', async () => {
    const { outbox, transport } = await startOutbox({ policy })
    await outbox.send({ id: 'order-1', peer: PEER_A, protocol: '/create', payload: bytes('x') })
    const again = await outbox.send({
      id: 'order-1',
      peer: PEER_A,
      protocol: '/create',
      payload: bytes('x')
    })
    expect(again).toEqual({ id: 'order-1', status: 'queued', nextAttemptAt: expect.any(Number) })
    expect(outbox.size).toBe(1)
    expect(transport.attemptsTo(PEER_A)).toBe(1)
  })

  it('validates its arguments with TypeError and forced levels by name', async () => {
    const { outbox } = await startOutbox({ policy })
    await expect(
      outbox.send({ peer: '', protocol: '/create', payload: bytes('x') })
    ).rejects.toThrow(TypeError)
    await expect(
      outbox.send({ peer: PEER_A, protocol: '/create', payload: 'text' as unknown as Uint8Array })
    ).rejects.toThrow(/payload must be a Uint8Array/)
    await expect(
      outbox.send({ peer: PEER_A, protocol: '/create', payload: bytes('x') }, { level: 'nope' })
    ).rejects.toThrow(/unknown level "nope"/)
    await expect(
      outbox.send({ id: 'x'.repeat(257), peer: PEER_A, protocol: '/create', payload: bytes('x') })
    ).rejects.toThrow(/at most 256/)
    const forced = await outbox.send(
      { peer: PEER_B, protocol: '/create', payload: bytes('x') },
      { level: 'moderate' }
    )
    expect(outbox.entries({ peer: PEER_B })[0]?.level).toBe('moderate')
    expect(forced.status).toBe('queued')
  })

  it('refuses sends before start and after stop', async () => {
    const { outbox } = await startOutbox({ policy })
    await outbox.stop()
    await expect(
      outbox.send({ peer: PEER_A, protocol: '/create', payload: bytes('x') })
    ).rejects.toSatisfy((error) => OutboxStoppedError.isInstance(error))
  })
})

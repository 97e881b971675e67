import { describe, expect, it } from 'vitest'
import {
  DeliveryFailedError,
  DeliveryRejectedError,
  ocDiscoveryPreset,
  UndeliverableError
} from '../src/index.js'
import { ControlledTransport } from './controlled.js'
import { bytes, FakeTransport, PEER_A, PEER_B, record, startOutbox } from './helpers.js'

/*
 * One test per behaviour of the Go original (oc-discovery dnt_cache.go) that
 * the README claims for ocDiscoveryPreset(); the Go source is in
 * ../shared/reference/oc-discovery-dnt_cache.go.txt.
 */

const policy = ocDiscoveryPreset({
  critical: ['/create', '/update', '/delete'],
  moderate: ['/verify', '/planner']
})
const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('ocDiscoveryPreset: the Go original, behaviour by behaviour', () => {
  it('dntProtocols: create/update/delete are critical and persisted, the moderate ones memory only', async () => {
    const { outbox, store } = await startOutbox({ policy })
    for (const protocol of ['/create', '/update', '/delete', '/verify', '/planner']) {
      await outbox.send({ peer: PEER_A, protocol, payload: bytes(protocol) })
    }
    expect(outbox.entries().map((entry) => [entry.protocol, entry.level])).toEqual([
      ['/create', 'critical'],
      ['/update', 'critical'],
      ['/delete', 'critical'],
      ['/verify', 'moderate'],
      ['/planner', 'moderate']
    ])
    // persistToDisk: only critical entries reach the file
    expect((await store.contents()).map((entry) => entry.protocol)).toEqual([
      '/create',
      '/update',
      '/delete'
    ])
  })

  it('protocols absent from dntProtocols (pubsub, search) are never cached: one attempt, the error to the caller', async () => {
    const { outbox, transport } = await startOutbox({ policy })
    await expect(
      outbox.send({ peer: PEER_A, protocol: '/search', payload: bytes('q') })
    ).rejects.toMatchObject({ name: 'PeerUnreachableError', code: 'DNT_PEER_UNREACHABLE' })
    expect(outbox.size).toBe(0)
    expect(transport.attemptsTo(PEER_A)).toBe(1)
  })

  it('dntRetryInterval: a fixed 15 s between attempts, never growing', async () => {
    const { outbox, transport, clock } = await startOutbox({ policy })
    const failures = record(outbox, 'attempt-failed')
    const start = clock.now()
    await outbox.send({ peer: PEER_A, protocol: '/create', payload: bytes('c') })
    for (let tick = 0; tick < 6; tick++) await clock.advance(15_000)
    expect(failures.map((event) => event.detail.nextAttemptAt - start)).toEqual([
      15_000, 30_000, 45_000, 60_000, 75_000, 90_000, 105_000
    ])
    expect(transport.attemptsTo(PEER_A)).toBe(7)
  })

  it('dntMaxModerateRetries: moderate is tried once plus 3 retries, then abandoned, and never persisted', async () => {
    const { outbox, transport, clock, store } = await startOutbox({ policy })
    const abandoned = record(outbox, 'abandoned')
    await outbox.send({ peer: PEER_A, protocol: '/verify', payload: bytes('v') })
    await clock.advance(15_000 * 10)
    expect(transport.attemptsTo(PEER_A)).toBe(4)
    expect(abandoned.map((event) => [event.detail.reason, event.detail.deadLetter])).toEqual([
      ['exhausted', false]
    ])
    expect(store.batches).toEqual([])
  })

  it('critical is retried forever whatever the error: unreachable, reset, protocol not registered yet', async () => {
    const transport = new ControlledTransport()
    const { outbox, clock } = await startOutbox({ policy, transport })
    const sent = outbox.send({ id: 'c', peer: PEER_A, protocol: '/create', payload: bytes('c') })
    await tick()
    transport.of('c').fail(new Error('ECONNREFUSED'))
    expect((await sent).status).toBe('queued')
    const errors = [
      new DeliveryFailedError('stream reset', { reason: 'reset' }),
      new DeliveryFailedError('protocol not registered', { reason: 'unsupported-protocol' }),
      new Error('dial timeout')
    ]
    for (let round = 0; round < 300; round++) {
      await clock.advance(15_000)
      transport.of('c').fail(errors[round % errors.length])
    }
    await tick()
    expect(outbox.entries().map((entry) => [entry.id, entry.attempts])).toEqual([['c', 301]])
    expect(outbox.deadLetters()).toEqual([])
  })

  it('no reaction to reconnects: the 15 s ticker alone decides, like the original', async () => {
    const { outbox, transport, clock } = await startOutbox({ policy })
    await outbox.send({ peer: PEER_A, protocol: '/create', payload: bytes('x') })
    transport.connect(PEER_A)
    await clock.advance(14_999)
    expect(transport.deliveredTo(PEER_A)).toEqual([])
    await clock.advance(1)
    expect(transport.deliveredTo(PEER_A).length).toBe(1)
  })

  it('loadFromDisk: critical entries survive a restart and are retried', async () => {
    const first = await startOutbox({ policy })
    const sent = await first.outbox.send({ peer: PEER_A, protocol: '/create', payload: bytes('c') })
    await first.outbox.send({ peer: PEER_A, protocol: '/verify', payload: bytes('m') })
    await first.outbox.stop()
    const transport = new FakeTransport()
    transport.set(PEER_A, 'up')
    const second = await startOutbox({ policy, store: first.store, transport, clock: first.clock })
    await second.clock.advance(15_000)
    expect(transport.deliveredTo(PEER_A)).toEqual([sent.id])
  })

  it('where retrying cannot help (refused by the application, dial denied) a critical message is kept as a dead letter, never dropped', async () => {
    const transport = new ControlledTransport()
    const { outbox, clock, store } = await startOutbox({ policy, transport })
    const sends = ['r', 'u'].map((id, index) =>
      outbox.send({
        id,
        peer: index === 0 ? PEER_A : PEER_B,
        protocol: '/create',
        payload: bytes(id)
      })
    )
    await tick()
    transport.of('r').fail(new Error('ECONNREFUSED'))
    transport.of('u').fail(new Error('ECONNREFUSED'))
    for (const sent of sends) expect((await sent).status).toBe('queued')
    await clock.advance(15_000)
    transport.of('r').fail(new DeliveryRejectedError('the handler refused it'))
    transport.of('u').fail(new UndeliverableError('dial denied', { reason: 'dial-denied' }))
    await tick()
    expect(outbox.deadLetters().map((entry) => [entry.id, entry.deadLetter?.reason])).toEqual([
      ['r', 'rejected'],
      ['u', 'undeliverable']
    ])
    expect((await store.contents()).map((entry) => entry.deadLetter?.reason)).toEqual([
      'rejected',
      'undeliverable'
    ])
  })
})

import { describe, expect, it } from 'vitest'
import {
  DeliveryFailedError,
  definePolicy,
  ocDiscoveryPreset,
  UndeliverableError
} from '../src/index.js'
import { ControlledTransport } from './controlled.js'
import { bytes, PEER_A, record, startOutbox } from './helpers.js'

const fixed = (interval: number) => ({ type: 'fixed' as const, interval })
const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('which failure costs what (#19 items 12 and 13)', () => {
  it('12. a protocol the receiver has not registered yet is retried on a level with unbounded retries', async () => {
    const transport = new ControlledTransport()
    const policy = definePolicy({ levels: { critical: { backoff: fixed(1_000) } } })
    const { outbox, clock, store } = await startOutbox({ policy, transport })
    const sent = outbox.send({ id: 'c', peer: PEER_A, protocol: '/late', payload: bytes('x') })
    await tick()
    const unsupported = () =>
      new DeliveryFailedError('protocol not supported', { reason: 'unsupported-protocol' })
    transport.of('c').fail(unsupported())
    expect((await sent).status).toBe('queued')
    for (let round = 0; round < 5; round++) {
      await clock.advance(1_000)
      transport.of('c').fail(unsupported())
    }
    await clock.advance(1_000)
    transport.of('c').succeed()
    await tick()
    expect(outbox.size).toBe(0)
    expect(outbox.deadLetters()).toEqual([])
    expect(await store.contents()).toEqual([])
  })

  it('12. the oc-discovery preset retries a critical message whatever the error, forever', async () => {
    const transport = new ControlledTransport()
    const policy = ocDiscoveryPreset({ critical: ['/create'] })
    const { outbox, clock } = await startOutbox({ policy, transport })
    const sent = outbox.send({ id: 'c', peer: PEER_A, protocol: '/create', payload: bytes('x') })
    await tick()
    const errors = [
      new DeliveryFailedError('no handler yet', { reason: 'unsupported-protocol' }),
      new DeliveryFailedError('stream reset', { reason: 'reset' }),
      new Error('ECONNREFUSED'),
      { isTrusted: true }
    ]
    transport.of('c').fail(errors[0])
    expect((await sent).status).toBe('queued')
    for (let round = 0; round < 40; round++) {
      await clock.advance(15_000)
      transport.of('c').fail(errors[round % errors.length])
    }
    await tick()
    expect(outbox.entries().map((entry) => [entry.id, entry.attempts])).toEqual([['c', 41]])
    await clock.advance(15_000)
    transport.of('c').succeed()
    await tick()
    expect(outbox.size).toBe(0)
  })

  it('13. a failure of one message charges that message only; the peer still backs off', async () => {
    const transport = new ControlledTransport()
    const policy = definePolicy({ levels: { moderate: { backoff: fixed(1_000) } } })
    const { outbox, clock } = await startOutbox({ policy, transport })
    const events = record(outbox, 'abandoned', 'attempt-failed')
    const head = outbox.send(
      { id: 'head', peer: PEER_A, protocol: '/p', payload: bytes('h') },
      { level: 'moderate' }
    )
    await tick()
    const behind = outbox.send(
      { id: 'behind', peer: PEER_A, protocol: '/p', payload: bytes('b') },
      { level: 'moderate' }
    )
    const tooLarge = () =>
      new DeliveryFailedError('frame refused: too large', { reason: 'too-large' })
    transport.of('head').fail(tooLarge())
    expect((await head).status).toBe('queued')
    expect((await behind).status).toBe('queued')
    for (let retry = 0; retry < 3; retry++) {
      await clock.advance(1_000)
      expect(transport.pending.map((delivery) => delivery.entry.id)).toEqual(['head'])
      transport.of('head').fail(tooLarge())
    }
    await tick()
    // head: first try + 3 retries, abandoned; behind: never charged, tried next
    expect(
      events.filter((event) => event.name === 'abandoned').map((event) => event.detail.entry.id)
    ).toEqual(['head'])
    expect(
      events
        .filter((event) => event.name === 'attempt-failed')
        .every((event) => event.detail.scope === 'message')
    ).toBe(true)
    expect(outbox.entries().map((entry) => [entry.id, entry.attempts])).toEqual([['behind', 0]])
    await clock.advance(1_000)
    expect(transport.pending.map((delivery) => delivery.entry.id)).toEqual(['behind'])
  })

  it('13. messages in flight together that each fail (a stream reset under them) back the peer off once, each charged once', async () => {
    const transport = new ControlledTransport()
    const backoff = {
      type: 'exponential' as const,
      initial: 1_000,
      max: 64_000,
      jitter: 'none' as const
    }
    const policy = definePolicy({ levels: { critical: { backoff } } })
    const { outbox, clock } = await startOutbox({ policy, transport, perPeerConcurrency: 8 })
    const failures = record(outbox, 'attempt-failed')
    // a first delivery proves the peer: the next ones go out together
    const first = outbox.send({ id: 'p', peer: PEER_A, protocol: '/p', payload: bytes('p') })
    await tick()
    transport.of('p').succeed()
    expect((await first).status).toBe('delivered')
    const ids = ['a', 'b', 'c', 'd', 'e']
    const sends = ids.map((id) =>
      outbox.send({ id, peer: PEER_A, protocol: '/p', payload: bytes(id) })
    )
    await tick()
    expect(transport.pending.map((delivery) => delivery.entry.id)).toEqual(ids)
    const reset = () => new DeliveryFailedError('the stream was reset', { reason: 'reset' })
    for (const id of ids) transport.of(id).fail(reset())
    for (const sent of sends) expect((await sent).status).toBe('queued')
    // one failed round, reported once
    expect(failures.map((event) => [event.detail.scope, event.detail.failures])).toEqual([
      ['message', 1]
    ])
    // one backoff step (1 s), not five (16 s): the peer is tried again after a second
    expect(outbox.entries().map((entry) => [entry.id, entry.attempts])).toEqual(
      ids.map((id) => [id, 1])
    )
    await clock.advance(1_000)
    expect(transport.pending.map((delivery) => delivery.entry.id)).toEqual(['a'])
  })

  it('an undeliverable message is not retried: the first caller gets the error, a queued one is dead-lettered with the reason', async () => {
    const transport = new ControlledTransport()
    const policy = definePolicy({ levels: { critical: { backoff: fixed(1_000) } } })
    const { outbox, clock, store } = await startOutbox({ policy, transport })
    const events = record(outbox, 'abandoned')
    const first = outbox.send({ id: 'a', peer: PEER_A, protocol: '/p', payload: bytes('a') })
    await tick()
    const behind = outbox.send({ id: 'b', peer: PEER_A, protocol: '/p', payload: bytes('b') })
    transport.of('a').fail(new Error('ECONNREFUSED'))
    expect((await first).status).toBe('queued')
    expect((await behind).status).toBe('queued')
    await clock.advance(1_000)
    const denied = () =>
      new UndeliverableError('the connection gater denies this address', { reason: 'dial-denied' })
    transport.of('a').fail(denied())
    await tick()
    transport.of('b').fail(denied())
    await tick()
    expect(
      events.map((event) => [event.detail.entry.id, event.detail.reason, event.detail.deadLetter])
    ).toEqual([
      ['a', 'undeliverable', true],
      ['b', 'undeliverable', true]
    ])
    expect(outbox.deadLetters().map((entry) => [entry.id, entry.deadLetter?.reason])).toEqual([
      ['a', 'undeliverable'],
      ['b', 'undeliverable']
    ])
    expect(outbox.deadLetters()[0]?.lastError).toMatch(/UndeliverableError.*gater/)
    await clock.advance(60_000)
    expect(transport.pending).toEqual([])
    expect((await store.contents()).map((entry) => entry.deadLetter?.reason)).toEqual([
      'undeliverable',
      'undeliverable'
    ])
    const fresh = outbox.send({ id: 'c', peer: PEER_A, protocol: '/p', payload: bytes('c') })
    await tick()
    transport.of('c').fail(denied())
    await expect(fresh).rejects.toSatisfy((error) => UndeliverableError.isInstance(error))
  })
})

import { describe, expect, it } from 'vitest'
import { definePolicy, ocDiscoveryPreset, PeerUnreachableError } from '../src/index.js'
import { bytes, PEER_A, PEER_B, record, startOutbox } from './helpers.js'

const fixed = (interval: number) => ({ type: 'fixed' as const, interval })

describe('retries (semantics 3, 4, 5 and 8)', () => {
  it('one dial per peer per attempt; a failure counts one attempt for every queued entry', async () => {
    const policy = definePolicy({ levels: { critical: { backoff: fixed(1_000) } } })
    const { outbox, transport, clock } = await startOutbox({ policy })
    for (let index = 0; index < 10; index++) {
      await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes(String(index)) })
    }
    expect(transport.attemptsTo(PEER_A)).toBe(1)
    await clock.advance(1_000)
    expect(transport.attemptsTo(PEER_A)).toBe(2)
    const attempts = outbox.entries().map((entry) => entry.attempts)
    // the first entry failed its first try too; the others joined behind it
    expect(attempts).toEqual([2, 1, 1, 1, 1, 1, 1, 1, 1, 1])
    await clock.advance(1_000)
    expect(transport.attemptsTo(PEER_A)).toBe(3)
  })

  it('delivers a backlog FIFO per peer once the peer is back', async () => {
    const policy = definePolicy({ levels: { critical: { backoff: fixed(1_000) } } })
    const { outbox, transport, clock } = await startOutbox({ policy })
    const ids: string[] = []
    for (let index = 0; index < 20; index++) {
      const peer = index % 2 === 0 ? PEER_A : PEER_B
      const { id } = await outbox.send({ peer, protocol: '/p', payload: bytes(String(index)) })
      if (peer === PEER_A) ids.push(id)
    }
    transport.set(PEER_A, 'up')
    await clock.advance(1_000)
    expect(transport.deliveredTo(PEER_A)).toEqual(ids)
    expect(outbox.entries().every((entry) => entry.peer === PEER_B)).toBe(true)
  })

  it('the oc-discovery preset: moderate is tried once plus 3 retries then abandoned; critical forever', async () => {
    const policy = ocDiscoveryPreset({ critical: ['/create'], moderate: ['/verify'] })
    const { outbox, transport, clock, store } = await startOutbox({ policy })
    const events = record(outbox, 'abandoned')
    await outbox.send({ peer: PEER_A, protocol: '/verify', payload: bytes('m') })
    await outbox.send({ peer: PEER_B, protocol: '/create', payload: bytes('c') })
    for (let tick = 1; tick <= 3; tick++) {
      await clock.advance(15_000)
      expect(transport.attemptsTo(PEER_A)).toBe(1 + tick)
      expect(outbox.entries({ peer: PEER_A }).length).toBe(tick < 3 ? 1 : 0)
    }
    expect(events.map((event) => [event.detail.reason, event.detail.entry.attempts])).toEqual([
      ['exhausted', 4]
    ])
    await clock.advance(15_000 * 100)
    expect(transport.attemptsTo(PEER_A)).toBe(4)
    expect(transport.attemptsTo(PEER_B)).toBe(104)
    expect(outbox.entries({ peer: PEER_B }).length).toBe(1)
    // moderate never touched the store; critical was written once and never rewritten by retries
    expect(store.batches.length).toBe(1)
    expect(outbox.deadLetters()).toEqual([])
  })

  it('protocols missing from the oc-discovery preset are never cached', async () => {
    const { outbox, transport, store } = await startOutbox({
      policy: ocDiscoveryPreset({ critical: ['/create'] })
    })
    await expect(
      outbox.send({ peer: PEER_A, protocol: '/search', payload: bytes('s') })
    ).rejects.toSatisfy(
      (error) =>
        PeerUnreachableError.isInstance(error) &&
        (error as Error).message === `dial to ${PEER_A} refused`
    )
    expect(transport.attemptsTo(PEER_A)).toBe(1)
    expect(outbox.size).toBe(0)
    expect(store.batches).toEqual([])
  })

  it('exhausted entries go to the dead-letter list when the level says so, and can be requeued', async () => {
    const policy = definePolicy({
      levels: {
        important: {
          persist: true,
          maxRetries: 1,
          backoff: fixed(1_000),
          onExhausted: 'dead-letter'
        }
      }
    })
    const { outbox, transport, clock, store } = await startOutbox({ policy })
    const { id } = await outbox.send(
      { peer: PEER_A, protocol: '/p', payload: bytes('x') },
      { level: 'important' }
    )
    await clock.advance(1_000)
    expect(outbox.size).toBe(0)
    expect(outbox.deadLetters().map((entry) => entry.id)).toEqual([id])
    expect((await store.contents())[0]?.deadLetter?.reason).toBe('exhausted')
    transport.set(PEER_A, 'up')
    expect(await outbox.requeue([id, 'unknown'])).toBe(1)
    await clock.advance(0)
    expect(transport.deliveredTo(PEER_A)).toEqual([id])
    expect(outbox.deadLetters()).toEqual([])
    expect(await store.contents()).toEqual([])
  })

  it('the retry budget of a persisted level with finite retries is durable', async () => {
    const policy = definePolicy({
      levels: { important: { persist: true, maxRetries: 5, backoff: fixed(1_000) } }
    })
    const { outbox, clock, store } = await startOutbox({ policy })
    await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('x') }, { level: 'important' })
    await clock.advance(1_000)
    await clock.advance(1_000)
    expect((await store.contents())[0]?.attempts).toBe(3)
  })

  it('entries past their TTL expire with an event and leave the store', async () => {
    const policy = definePolicy({
      levels: { critical: { ttl: 10_000, backoff: fixed(60_000), onExhausted: 'drop' } }
    })
    const { outbox, clock, store } = await startOutbox({ policy })
    const events = record(outbox, 'expired')
    const { id } = await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('x') })
    await clock.advance(9_999)
    expect(outbox.size).toBe(1)
    await clock.advance(1)
    expect(outbox.size).toBe(0)
    expect(events.map((event) => event.detail.entry.id)).toEqual([id])
    expect(await store.contents()).toEqual([])
  })

  it('onReachable resets the backoff and flushes at once (no timer needed)', async () => {
    const policy = definePolicy({ levels: { critical: { backoff: fixed(3_600_000) } } })
    const { outbox, transport, clock } = await startOutbox({ policy })
    const events = record(outbox, 'peer-reachable', 'delivered')
    const sent = []
    for (let index = 0; index < 3; index++) {
      sent.push(
        (await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes(String(index)) })).id
      )
    }
    transport.connect(PEER_A)
    await clock.advance(0)
    expect(transport.deliveredTo(PEER_A)).toEqual(sent)
    expect(events[0]).toEqual({ name: 'peer-reachable', detail: { peer: PEER_A } })
  })

  it('the oc-discovery preset does not react to reconnects, like the original', async () => {
    const { outbox, transport, clock } = await startOutbox({
      policy: ocDiscoveryPreset({ critical: ['/c'] })
    })
    await outbox.send({ peer: PEER_A, protocol: '/c', payload: bytes('x') })
    transport.connect(PEER_A)
    await clock.advance(14_999)
    expect(transport.deliveredTo(PEER_A)).toEqual([])
    await clock.advance(1)
    expect(transport.deliveredTo(PEER_A).length).toBe(1)
  })

  it('exponential backoff with jitter grows per peer, from the injected clock and random source', async () => {
    const policy = definePolicy({
      levels: {
        critical: { backoff: { type: 'exponential', initial: 1_000, max: 8_000, jitter: 'none' } }
      }
    })
    const { outbox, transport, clock } = await startOutbox({ policy })
    const start = clock.now()
    const failures = record(outbox, 'attempt-failed')
    await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('x') })
    for (let step = 0; step < 5; step++) await clock.next()
    expect(failures.map((event) => event.detail.nextAttemptAt - start)).toEqual([
      1_000, 3_000, 7_000, 15_000, 23_000, 31_000
    ])
    expect(transport.attemptsTo(PEER_A)).toBe(6)
  })

  it('flush(peer) attempts now and resolves when the round is over', async () => {
    const policy = definePolicy({ levels: { critical: { backoff: fixed(3_600_000) } } })
    const { outbox, transport } = await startOutbox({ policy })
    await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('x') })
    await outbox.flush(PEER_A)
    expect(transport.attemptsTo(PEER_A)).toBe(2)
    transport.set(PEER_A, 'up')
    await outbox.flush()
    expect(outbox.size).toBe(0)
    await outbox.whenDrained()
  })

  it('limits the peers delivered to at once, and pipelines to a peer once it proved reachable', async () => {
    const { outbox, transport, clock } = await startOutbox({
      concurrency: 2,
      perPeerConcurrency: 4
    })
    for (const peer of ['p1', 'p2', 'p3']) transport.set(peer, 'hang')
    for (const peer of ['p1', 'p2', 'p3'])
      void outbox.send({ peer, protocol: '/p', payload: bytes('x') })
    await clock.advance(0)
    expect(outbox.stats().inFlight).toBe(2)
    transport.releaseHanging()
    await clock.advance(0)
    expect(transport.calls.map((call) => call.peer)).toEqual(['p1', 'p2', 'p3'])
    transport.set('p4', 'up')
    await outbox.send({ peer: 'p4', protocol: '/p', payload: bytes('0') })
    transport.set('p4', 'hang')
    for (let index = 1; index <= 6; index++)
      void outbox.send({ peer: 'p4', protocol: '/p', payload: bytes(String(index)) })
    await clock.advance(0)
    expect(transport.attemptsTo('p4')).toBe(5)
    transport.releaseHanging()
  })
})

import { describe, expect, it } from 'vitest'
import { DuplicateIdError, definePolicy, type Entry } from '../src/index.js'
import { bytes, FakeTransport, PEER_A, PEER_B, record, startOutbox } from './helpers.js'

const text = (value: Uint8Array | undefined) =>
  value === undefined ? undefined : new TextDecoder().decode(value)
const answer = (entry: Entry) => bytes(`created ${entry.id}`)
const policy = definePolicy({
  levels: {
    critical: { backoff: { type: 'fixed', interval: 1_000 } },
    moderate: { backoff: { type: 'fixed', interval: 1_000 } }
  }
})

describe('replies (#15)', () => {
  it('a message delivered at once: the reply is in the result of send(), and nothing is kept', async () => {
    const { outbox, transport, store } = await startOutbox({ policy })
    transport.set(PEER_A, 'up')
    transport.replyWith = answer
    const result = await outbox.send({
      id: 'r1',
      peer: PEER_A,
      protocol: '/p',
      payload: bytes('x')
    })
    expect({ ...result, reply: text(result.reply) }).toEqual({
      id: 'r1',
      status: 'delivered',
      reply: 'created r1'
    })
    expect(outbox.replies()).toEqual([])
    expect(store.batches).toEqual([])
  })

  it('a message delivered later keeps its reply, in the store, across a restart, until taken', async () => {
    const first = await startOutbox({ policy })
    const events = record(first.outbox, 'delivered')
    const queued = await first.outbox.send({
      id: 'r2',
      peer: PEER_A,
      protocol: '/p',
      payload: bytes('x')
    })
    expect(queued).toEqual({ id: 'r2', status: 'queued', nextAttemptAt: first.clock.now() + 1_000 })
    first.transport.set(PEER_A, 'up')
    first.transport.replyWith = answer
    await first.clock.advance(1_000)
    expect(events.map((event) => [event.detail.entry.id, text(event.detail.reply)])).toEqual([
      ['r2', 'created r2']
    ])
    expect(first.outbox.replies().map((pending) => [pending.id, text(pending.reply)])).toEqual([
      ['r2', 'created r2']
    ])
    expect(first.outbox.stats().replies).toBe(1)
    await first.outbox.stop()
    expect(
      (await first.store.contents()).map((entry) => [entry.id, text(entry.delivered?.reply)])
    ).toEqual([['r2', 'created r2']])

    const transport = new FakeTransport()
    transport.set(PEER_A, 'up')
    const second = await startOutbox({ policy, store: first.store, transport, clock: first.clock })
    await second.clock.advance(10_000)
    // a reply is not a queued message: nothing is sent again
    expect(transport.calls).toEqual([])
    // the same message again is answered as it was, reply included; another under its id is refused
    const again = await second.outbox.send({
      id: 'r2',
      peer: PEER_A,
      protocol: '/p',
      payload: bytes('x')
    })
    expect([again.status, text(again.reply)]).toEqual(['delivered', 'created r2'])
    await expect(
      second.outbox.send({ id: 'r2', peer: PEER_A, protocol: '/p', payload: bytes('y') })
    ).rejects.toSatisfy((error) => DuplicateIdError.isInstance(error))
    expect(text(await second.outbox.takeReply('r2'))).toBe('created r2')
    expect(await second.outbox.takeReply('r2')).toBeUndefined()
    expect(await second.store.contents()).toEqual([])
  })

  it('a memory-only level keeps its replies in memory only; purge removes replies too', async () => {
    const { outbox, transport, clock, store } = await startOutbox({ policy })
    await outbox.send(
      { id: 'm', peer: PEER_A, protocol: '/p', payload: bytes('x') },
      { level: 'moderate' }
    )
    await outbox.send({ id: 'c', peer: PEER_B, protocol: '/p', payload: bytes('x') })
    transport.set(PEER_A, 'up')
    transport.set(PEER_B, 'up')
    transport.replyWith = answer
    await clock.advance(1_000)
    expect(
      outbox
        .replies()
        .map((pending) => pending.id)
        .sort()
    ).toEqual(['c', 'm'])
    expect((await store.contents()).map((entry) => entry.id)).toEqual(['c'])
    expect(await outbox.purge({ all: true })).toBe(2)
    expect(outbox.replies()).toEqual([])
    expect(await store.contents()).toEqual([])
  })

  it('every send of one id hears the same reply; each reply belongs to its own request', async () => {
    const { outbox, transport } = await startOutbox({ policy })
    transport.set(PEER_A, 'up')
    transport.replyWith = answer
    const message = (id: string) => ({ id, peer: PEER_A, protocol: '/p', payload: bytes(id) })
    const results = await Promise.all([
      outbox.send(message('a')),
      outbox.send(message('a')),
      outbox.send(message('b')),
      outbox.send(message('c'))
    ])
    expect(results.map((result) => [result.id, text(result.reply)])).toEqual([
      ['a', 'created a'],
      ['a', 'created a'],
      ['b', 'created b'],
      ['c', 'created c']
    ])
  })

  it('stats(): delivered, attempts per delivery and latency percentiles by protocol and by level', async () => {
    const { outbox, transport, clock } = await startOutbox({ policy })
    transport.set(PEER_A, 'up')
    await outbox.send({ peer: PEER_A, protocol: '/fast', payload: bytes('x') })
    transport.set(PEER_B, 'down')
    await outbox.send({ peer: PEER_B, protocol: '/slow', payload: bytes('y') })
    await clock.advance(1_000)
    await clock.advance(1_000)
    transport.set(PEER_B, 'up')
    await clock.advance(1_000)
    const { latency } = outbox.stats()
    expect(latency.byProtocol['/fast']).toEqual({
      delivered: 1,
      attemptsPerDelivery: 1,
      p50: 0,
      p95: 0,
      p99: 0
    })
    const slow = latency.byProtocol['/slow']
    expect(slow?.delivered).toBe(1)
    expect(slow?.attemptsPerDelivery).toBe(4)
    // 3,000 ms, reported within 5%
    expect(slow?.p50).toBeGreaterThanOrEqual(2_850)
    expect(slow?.p50).toBeLessThanOrEqual(3_150)
    expect(latency.byLevel.critical).toMatchObject({ delivered: 2, attemptsPerDelivery: 2.5 })
  })
})

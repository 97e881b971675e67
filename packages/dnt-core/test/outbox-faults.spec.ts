import { describe, expect, it } from 'vitest'
import {
  DeliveryRejectedError,
  definePolicy,
  OutboxFullError,
  OutboxStoppedError,
  PeerUnreachableError,
  StoreUnavailableError
} from '../src/index.js'
import { ControlledTransport, FaultStore } from './controlled.js'
import { bytes, PEER_A, SpyStore, startOutbox } from './helpers.js'

/*
 * One test per behaviour listed in the outbox-faults issue (#19); each failed
 * on the Outbox before it was split into its parts. Numbers refer to the issue.
 */

const fixed = (interval: number) => ({ type: 'fixed' as const, interval })
const policy = definePolicy({
  levels: {
    critical: { backoff: fixed(1_000) },
    moderate: { backoff: fixed(1_000) },
    once: { persist: false, maxRetries: 0, backoff: fixed(1_000), onExhausted: 'drop' },
    important: {
      persist: true,
      maxRetries: 5,
      backoff: fixed(1_000),
      onExhausted: 'dead-letter'
    },
    fragile: { persist: true, maxRetries: 0, backoff: fixed(1_000), onExhausted: 'dead-letter' }
  }
})

describe('outbox under store and network faults (#19)', () => {
  it('1. a dead letter requeued while its peer still has queued entries is delivered once', async () => {
    const { outbox, transport, clock } = await startOutbox({ policy })
    const first = await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('1') })
    const dead = await outbox.send(
      { peer: PEER_A, protocol: '/p', payload: bytes('d') },
      { level: 'fragile' }
    )
    expect(first.status).toBe('queued')
    // fragile allows no retry: the round failure that follows dead-letters it behind `first`
    await clock.advance(1_000)
    expect(outbox.deadLetters().map((entry) => entry.id)).toEqual([dead.id])
    expect(await outbox.requeue([dead.id])).toBe(1)
    transport.set(PEER_A, 'up')
    await clock.advance(1_000)
    await clock.advance(1_000)
    expect(transport.deliveredTo(PEER_A)).toEqual([first.id, dead.id])
    expect(outbox.size).toBe(0)
  })

  it('1. the same with attempts pipelined: the requeued entry is taken once, not twice', async () => {
    // The old scheduler could take one entry into two attempts only when a peer had
    // several in flight; with one attempt at a time the case above passed before the split.
    const { outbox, transport, clock } = await startOutbox({ policy, perPeerConcurrency: 3 })
    const queued = []
    for (const text of ['1', '2']) {
      queued.push(await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes(text) }))
    }
    const dead = await outbox.send(
      { peer: PEER_A, protocol: '/p', payload: bytes('d') },
      { level: 'fragile' }
    )
    await clock.advance(1_000)
    expect(outbox.deadLetters().map((entry) => entry.id)).toEqual([dead.id])
    expect(await outbox.requeue([dead.id])).toBe(1)
    transport.set(PEER_A, 'up')
    await clock.advance(1_000)
    await clock.advance(1_000)
    expect(transport.deliveredTo(PEER_A)).toEqual([...queued.map((result) => result.id), dead.id])
    expect(outbox.size).toBe(0)
  })

  it('3. nothing is written before the first attempt settles: a refused message is never persisted', async () => {
    const transport = new ControlledTransport()
    const { outbox, store } = await startOutbox({ policy, transport })
    const head = outbox.send({ id: 'head', peer: PEER_A, protocol: '/p', payload: bytes('h') })
    await Promise.resolve()
    const behind = outbox.send({ id: 'behind', peer: PEER_A, protocol: '/p', payload: bytes('b') })
    await new Promise((resolve) => setImmediate(resolve))
    expect(store.batches).toEqual([])
    transport.of('head').fail(new DeliveryRejectedError('handler refused'))
    await expect(head).rejects.toSatisfy((error) => DeliveryRejectedError.isInstance(error))
    // the next one is attempted as a first attempt too, still without a write
    await new Promise((resolve) => setImmediate(resolve))
    transport.of('behind').succeed()
    expect((await behind).status).toBe('delivered')
    expect(store.batches).toEqual([])
  })

  it('3. a dead letter requeued behind a first attempt in flight reaches the store after it', async () => {
    const transport = new ControlledTransport()
    const store = new FaultStore()
    const { outbox, clock } = await startOutbox({ policy, transport, store: store as never })
    const dead = outbox.send(
      { id: 'dead', peer: PEER_A, protocol: '/p', payload: bytes('d') },
      { level: 'fragile' }
    )
    await new Promise((resolve) => setImmediate(resolve))
    transport.of('dead').fail(new PeerUnreachableError('refused'))
    expect((await dead).status).toBe('abandoned')
    const head = outbox.send({ id: 'head', peer: PEER_A, protocol: '/p', payload: bytes('h') })
    await new Promise((resolve) => setImmediate(resolve))
    expect(await outbox.requeue(['dead'])).toBe(1)
    // memory: head, then the requeued one; the store must say the same
    expect(outbox.entries().map((entry) => entry.id)).toEqual(['head', 'dead'])
    expect((await store.contents()).map((entry) => entry.id)).toEqual(['head', 'dead'])
    transport.of('head').succeed()
    expect((await head).status).toBe('queued')
    await clock.advance(0)
    expect((await store.contents()).map((entry) => entry.id)).toEqual(['dead'])
  })

  it('3. entries written after a failed first attempt reach the store in queue order', async () => {
    const transport = new ControlledTransport()
    const { outbox, store } = await startOutbox({ policy, transport })
    const sends = ['a', 'b', 'c'].map((id) =>
      outbox.send({ id, peer: PEER_A, protocol: '/p', payload: bytes(id) })
    )
    await new Promise((resolve) => setImmediate(resolve))
    transport.of('a').fail(new PeerUnreachableError('refused'))
    for (const sent of sends) expect((await sent).status).toBe('queued')
    expect((await store.contents()).map((entry) => entry.id)).toEqual(['a', 'b', 'c'])
  })

  it('4. a write that failed is written again; stop() writes pending deletes', async () => {
    const store = new FaultStore()
    const { outbox, transport, clock } = await startOutbox({ policy, store: store as never })
    const kept = await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('k') })
    const budget = await outbox.send(
      { peer: PEER_A, protocol: '/p', payload: bytes('b') },
      { level: 'important' }
    )
    store.mode = 'fail'
    await clock.advance(1_000) // a round failure: the retry budget of `budget` must be written
    transport.set(PEER_A, 'up')
    await clock.advance(1_000) // store still failing: the put was retried and failed again
    store.mode = 'healthy'
    await clock.advance(1_000)
    expect(transport.deliveredTo(PEER_A)).toEqual([kept.id, budget.id])
    await outbox.stop()
    // both deliveries' deletes reached the store, after the failures
    expect(await store.contents()).toEqual([])
  })

  it('4. deliveries while every write fails, then a healthy store and stop(): nothing comes back', async () => {
    const store = new FaultStore()
    const { outbox, transport, clock } = await startOutbox({ policy, store: store as never })
    const ids: string[] = []
    for (let index = 0; index < 3; index++) {
      ids.push((await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('x') })).id)
    }
    store.mode = 'fail'
    transport.set(PEER_A, 'up')
    await outbox.flush(PEER_A)
    expect(transport.deliveredTo(PEER_A)).toEqual(ids)
    expect((await store.contents()).length).toBe(3)
    store.mode = 'healthy'
    await outbox.stop()
    expect(await store.contents()).toEqual([])
    void clock
  })

  it('5. a pipelined attempt that fails does not retire an entry still in flight', async () => {
    const transport = new ControlledTransport()
    const { outbox } = await startOutbox({ policy, transport, perPeerConcurrency: 3 })
    const proof = outbox.send({ id: 'proof', peer: PEER_A, protocol: '/p', payload: bytes('p') })
    await new Promise((resolve) => setImmediate(resolve))
    transport.of('proof').succeed()
    await proof
    const sends = ['a', 'b', 'c'].map((id) =>
      outbox.send({ id, peer: PEER_A, protocol: '/p', payload: bytes(id) }, { level: 'once' })
    )
    await new Promise((resolve) => setImmediate(resolve))
    expect(transport.pending.map((delivery) => delivery.entry.id)).toEqual(['a', 'b', 'c'])
    transport.of('a').fail(new PeerUnreachableError('connection reset'))
    transport.of('b').succeed()
    transport.of('c').succeed()
    const [a, b, c] = await Promise.all(sends)
    expect([a?.status, b?.status, c?.status]).toEqual(['abandoned', 'delivered', 'delivered'])
  })

  it('7. a requeue that does not fit changes nothing; one whose write fails leaves dead letters dead', async () => {
    const store = new FaultStore()
    const { outbox, clock } = await startOutbox({
      policy,
      store: store as never,
      limits: { maxEntriesPerPeer: 2 }
    })
    const dead: string[] = []
    for (let index = 0; index < 3; index++) {
      const result = await outbox.send(
        { peer: PEER_A, protocol: '/p', payload: bytes(String(index)) },
        { level: 'fragile' }
      )
      expect(result.status).toBe('abandoned')
      dead.push(result.id)
    }
    await expect(outbox.requeue(dead)).rejects.toSatisfy((error) =>
      OutboxFullError.isInstance(error)
    )
    expect(outbox.deadLetters().map((entry) => entry.id)).toEqual(dead)
    expect(outbox.size).toBe(0)
    store.mode = 'fail'
    await expect(outbox.requeue(dead.slice(0, 2))).rejects.toSatisfy((error) =>
      StoreUnavailableError.isInstance(error)
    )
    expect(
      outbox
        .deadLetters()
        .map((entry) => entry.id)
        .sort()
    ).toEqual([...dead].sort())
    expect(outbox.size).toBe(0)
    store.mode = 'healthy'
    await clock.advance(1_000)
    const stored = await store.contents()
    expect(stored.map((entry) => [entry.id, entry.deadLetter?.reason])).toEqual(
      dead.map((id) => [id, 'exhausted'])
    )
  })

  it('9. an id sent again while its first attempt is in flight waits for the same outcome', async () => {
    const transport = new ControlledTransport()
    const { outbox, store, clock } = await startOutbox({ policy, transport })
    const message = { id: 'order-7', peer: PEER_A, protocol: '/p', payload: bytes('x') }
    const first = outbox.send(message)
    await new Promise((resolve) => setImmediate(resolve))
    let second: string | undefined
    const again = outbox.send(message).then((result) => {
      second = result.status
      return result
    })
    await new Promise((resolve) => setImmediate(resolve))
    // nothing is on disk yet, so the second send cannot honestly say "queued"
    expect(second).toBeUndefined()
    expect(transport.calls).toEqual(['order-7'])
    transport.of('order-7').fail(new PeerUnreachableError('refused'))
    expect(await first).toEqual({
      id: 'order-7',
      status: 'queued',
      nextAttemptAt: clock.now() + 1_000
    })
    expect(await again).toEqual({
      id: 'order-7',
      status: 'queued',
      nextAttemptAt: clock.now() + 1_000
    })
    expect((await store.contents()).map((entry) => entry.id)).toEqual(['order-7'])
  })

  it('10. whenDrained() rejects with OutboxStoppedError on stop(), and after it', async () => {
    const { outbox } = await startOutbox({ policy })
    await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('x') })
    const waiting = outbox.whenDrained()
    const flushing = outbox.flush()
    await outbox.stop()
    await expect(waiting).rejects.toSatisfy((error) => OutboxStoppedError.isInstance(error))
    await expect(flushing).resolves.toBeUndefined()
    await expect(outbox.whenDrained()).rejects.toSatisfy((error) =>
      OutboxStoppedError.isInstance(error)
    )
  })

  it('a first write that fails reaches the sender, and nothing of the message is kept', async () => {
    const store = new SpyStore()
    const { outbox, clock } = await startOutbox({ policy, store })
    store.failing = true
    await expect(
      outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('x') })
    ).rejects.toSatisfy((error) => StoreUnavailableError.isInstance(error))
    expect(outbox.size).toBe(0)
    store.failing = false
    await clock.advance(1_000)
    expect(await store.contents()).toEqual([])
  })
})

import { describe, expect, it } from 'vitest'
import { DuplicateIdError, definePolicy, memoryStore, Outbox } from '../src/index.js'
import { MAX_ID_BYTES, MAX_STORE_ID_BYTES } from '../src/plugin/index.js'
import { testEntry } from '../src/testing/index.js'
import { ControlledTransport } from './controlled.js'
import { bytes, FakeTransport, PEER_A, PEER_B, record, startOutbox } from './helpers.js'

const tick = () => new Promise((resolve) => setImmediate(resolve))
const policy = definePolicy({
  levels: {
    critical: { backoff: { type: 'fixed', interval: 1_000 } },
    fragile: { persist: true, maxRetries: 0, onExhausted: 'dead-letter' }
  }
})

describe('one id means one message (DESIGN 12)', () => {
  it('the same id with the same message is idempotent whether queued, dead or delivered', async () => {
    const { outbox, transport, clock } = await startOutbox({ policy })
    const message = { id: 'm-1', peer: PEER_A, protocol: '/p', payload: bytes('x') }
    expect((await outbox.send(message)).status).toBe('queued')
    expect(await outbox.send(message)).toEqual({
      id: 'm-1',
      status: 'queued',
      nextAttemptAt: clock.now() + 1_000
    })
    const dead = { id: 'd-1', peer: PEER_B, protocol: '/p', payload: bytes('d') }
    expect((await outbox.send(dead, { level: 'fragile' })).status).toBe('abandoned')
    expect(await outbox.send(dead, { level: 'fragile' })).toEqual({
      id: 'd-1',
      status: 'abandoned'
    })
    transport.set(PEER_A, 'up')
    await clock.advance(1_000)
    expect(await outbox.send(message)).toEqual({ id: 'm-1', status: 'delivered' })
    expect(transport.deliveredTo(PEER_A)).toEqual(['m-1'])
    expect(outbox.size).toBe(0)
  })

  it('the same id with another payload, peer or protocol throws DuplicateIdError, never a silent drop', async () => {
    const { outbox, transport, clock } = await startOutbox({ policy })
    await outbox.send({ id: 'x', peer: PEER_A, protocol: '/p', payload: bytes('first') })
    for (const other of [
      { id: 'x', peer: PEER_A, protocol: '/p', payload: bytes('second') },
      { id: 'x', peer: PEER_B, protocol: '/p', payload: bytes('first') },
      { id: 'x', peer: PEER_A, protocol: '/q', payload: bytes('first') }
    ]) {
      await expect(outbox.send(other)).rejects.toSatisfy(
        (error) =>
          DuplicateIdError.isInstance(error) &&
          /"x" is already queued/.test((error as Error).message)
      )
    }
    expect(outbox.entries().map((entry) => new TextDecoder().decode(entry.payload))).toEqual([
      'first'
    ])
    transport.set(PEER_A, 'up')
    await clock.advance(1_000)
    await expect(
      outbox.send({ id: 'x', peer: PEER_A, protocol: '/p', payload: bytes('second') })
    ).rejects.toThrow(/already delivered/)
  })

  it('ids are limited in UTF-8 bytes: 256 one-byte or 64 four-byte characters, not more', async () => {
    const { outbox } = await startOutbox({ policy })
    const send = (id: string) =>
      outbox.send({ id, peer: PEER_A, protocol: '/p', payload: bytes('x') })
    await expect(send('a'.repeat(256))).resolves.toMatchObject({ status: 'queued' })
    await expect(send('😀'.repeat(64))).resolves.toMatchObject({ status: 'queued' })
    await expect(send('é'.repeat(129))).rejects.toThrow(/258 bytes in UTF-8; at most 256/)
    await expect(send(`${'😀'.repeat(64)}a`)).rejects.toThrow(/257 bytes/)
  })

  it("a store keeps ids up to MAX_STORE_ID_BYTES (a receiver's dedupe record <peer>/<id>); adopt() keeps the message-id rule", async () => {
    const store = memoryStore()
    await store.open()
    const record = testEntry({ id: `${PEER_A}/${'😀'.repeat(MAX_ID_BYTES / 4)}`, level: 'dedupe' })
    await store.apply({ put: [record] })
    const kept: string[] = []
    for await (const entry of await store.open()) kept.push(entry.id)
    expect(kept).toEqual([record.id])
    await expect(
      store.apply({ put: [testEntry({ id: 'x'.repeat(MAX_STORE_ID_BYTES + 1) })] })
    ).rejects.toThrow(
      new TypeError(`batch.put[0].id is 1025 bytes in UTF-8; at most 1024 are allowed`)
    )
    const { outbox } = await startOutbox({ policy })
    expect(() => outbox.adopt([testEntry({ id: 'a'.repeat(MAX_ID_BYTES + 1) })])).toThrow(
      new TypeError('entries[0].id is 257 bytes in UTF-8; at most 256 are allowed')
    )
  })
})

describe('send(): AbortSignal, libp2p objects, options (#17)', () => {
  it('aborting before the message is durable leaves nothing; after, it only stops waiting', async () => {
    const transport = new ControlledTransport()
    const { outbox, store, clock } = await startOutbox({ policy, transport })
    const early = new AbortController()
    const cancelled = outbox.send(
      { id: 'early', peer: PEER_A, protocol: '/p', payload: bytes('x') },
      { signal: early.signal }
    )
    await tick()
    early.abort(new Error('user went away'))
    await expect(cancelled).rejects.toThrow('user went away')
    expect(outbox.size).toBe(0)
    expect(transport.pending).toEqual([])

    // waiting behind a first attempt, not yet durable: an abort leaves nothing either
    const head = outbox.send({ id: 'head', peer: PEER_A, protocol: '/p', payload: bytes('h') })
    await tick()
    const controller = new AbortController()
    const behind = outbox.send(
      { id: 'behind', peer: PEER_A, protocol: '/p', payload: bytes('b') },
      { signal: controller.signal }
    )
    controller.abort(new Error('changed my mind'))
    await expect(behind).rejects.toThrow('changed my mind')
    transport.of('head').fail(new Error('ECONNREFUSED'))
    expect((await head).status).toBe('queued')
    await clock.advance(0)
    expect((await store.contents()).map((entry) => entry.id)).toEqual(['head'])
    expect(outbox.entries().map((entry) => entry.id)).toEqual(['head'])
  })

  it('an abort while queued durably only stops waiting; the message stays and is delivered', async () => {
    const transport = new ControlledTransport()
    const { outbox, store, clock } = await startOutbox({ policy, transport })
    const first = outbox.send({ id: 'a', peer: PEER_A, protocol: '/p', payload: bytes('a') })
    await tick()
    transport.of('a').fail(new Error('ECONNREFUSED'))
    expect((await first).status).toBe('queued')
    const controller = new AbortController()
    const second = outbox.send(
      { id: 'a', peer: PEER_A, protocol: '/p', payload: bytes('a') },
      { signal: controller.signal }
    )
    controller.abort(new Error('gone'))
    await expect(second).resolves.toEqual({
      id: 'a',
      status: 'queued',
      nextAttemptAt: clock.now() + 1_000
    })
    expect((await store.contents()).map((entry) => entry.id)).toEqual(['a'])
    await clock.advance(1_000)
    transport.of('a').succeed()
    await tick()
    expect(outbox.size).toBe(0)
  })

  it('an already aborted signal is refused before anything happens', async () => {
    const { outbox, transport } = await startOutbox({ policy })
    await expect(
      outbox.send(
        { peer: PEER_A, protocol: '/p', payload: bytes('x') },
        { signal: AbortSignal.abort() }
      )
    ).rejects.toSatisfy((error) => error instanceof DOMException && error.name === 'AbortError')
    expect(transport.calls).toEqual([])
    expect(outbox.size).toBe(0)
  })

  it('accepts a PeerId and Multiaddrs (objects whose toString() gives them), and refuses plain objects', async () => {
    const { outbox } = await startOutbox({ policy })
    const peerId = { toString: () => PEER_A, type: 'Ed25519' }
    const addr = { toString: () => '/ip4/127.0.0.1/tcp/4001' }
    await outbox.send({ peer: peerId, addrs: [addr], protocol: '/p', payload: bytes('x') })
    expect(outbox.entries().map((entry) => [entry.peer, entry.addrs])).toEqual([
      [PEER_A, ['/ip4/127.0.0.1/tcp/4001']]
    ])
    await expect(
      outbox.send({ peer: {} as never, protocol: '/p', payload: bytes('x') })
    ).rejects.toThrow(/message.peer must be a string, a PeerId or a Multiaddr/)
  })

  it('unknown option names are a TypeError naming the option', async () => {
    const transport = new FakeTransport()
    expect(() => new Outbox({ transport, retries: 3 } as never)).toThrow(/unknown option "retries"/)
    expect(() => new Outbox({ transport, limits: { maxEntry: 3 } } as never)).toThrow(
      /limits: unknown option "maxEntry"/
    )
    const { outbox } = await startOutbox({ policy })
    await expect(
      outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('x') }, { levle: 'x' } as never)
    ).rejects.toThrow(/send options: unknown option "levle"/)
  })

  it('attempts means the same everywhere: the delivered event counts the successful attempt in entry.attempts too', async () => {
    const { outbox, transport, clock } = await startOutbox({ policy })
    const events = record(outbox, 'delivered')
    await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('x') })
    expect(outbox.entries()[0]?.attempts).toBe(1)
    await clock.advance(1_000)
    expect(outbox.entries()[0]?.attempts).toBe(2)
    transport.set(PEER_A, 'up')
    await clock.advance(1_000)
    expect(events.map((event) => [event.detail.attempts, event.detail.entry.attempts])).toEqual([
      [3, 3]
    ])
  })
})

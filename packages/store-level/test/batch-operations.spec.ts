import {
  createEntry,
  DuplicateIdError,
  definePolicy,
  type Entry,
  Outbox,
  PeerUnreachableError,
  StoreClosedError,
  type Transport
} from '@dntkit/core'
import { manualClock } from '@dntkit/core/testing'
import { ClassicLevel } from 'classic-level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type LevelStore, levelStore } from '../src/index.js'
import { privateKey, temporaryDirectory } from './fixtures.js'

const PEER = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

/** A transport whose peer is down until `up` is set; records what it delivered. */
function switchableTransport(): Transport & { up: boolean; delivered: string[] } {
  const transport = {
    up: false,
    delivered: [] as string[],
    async deliver(entry: Entry): Promise<void> {
      if (!transport.up) throw new PeerUnreachableError(`peer ${entry.peer} is down`)
      transport.delivered.push(entry.id)
    }
  }
  return transport
}

/** Critical with a finite retry count: every attempt is written (an unlimited level writes none). */
const policy = definePolicy({
  levels: { critical: { maxRetries: 100, backoff: { type: 'fixed', interval: 1_000 } } }
})

let directory: { path: string; remove(): Promise<void> }
let db: ClassicLevel<string, { item: string }>
const running: Outbox[] = []

beforeEach(async () => {
  directory = await temporaryDirectory()
  db = new ClassicLevel<string, { item: string }>(directory.path, { valueEncoding: 'json' })
  await db.open()
})

afterEach(async () => {
  for (const outbox of running.splice(0)) await outbox.stop()
  await db.close()
  await directory.remove()
})

async function startOutbox(store: LevelStore, transport: Transport) {
  const clock = manualClock()
  const outbox = new Outbox({ transport, store, policy, clock })
  running.push(outbox)
  await outbox.start()
  return { outbox, clock }
}

function order(id: string, clock: { now(): number }): Entry {
  return createEntry(
    { id, peer: PEER, protocol: '/shop/orders/1.0.0', payload: bytes(id) },
    'critical',
    clock.now()
  )
}

describe('batchOperations(): the outbox in the application database batch', () => {
  it('writes the record and the message in one batch; adopted, it is delivered and then deleted', async () => {
    const orders = db.sublevel<string, { item: string }>('orders', { valueEncoding: 'json' })
    const store = levelStore({ db, prefix: 'outbox', privateKey })
    const transport = switchableTransport()
    const { outbox, clock } = await startOutbox(store, transport)
    transport.up = true

    const entry = order('order-1', clock)
    await db.batch(
      [
        { type: 'put', sublevel: orders, key: 'order-1', value: { item: 'lamp' } },
        ...(await store.batchOperations([entry]))
      ],
      { sync: true }
    )
    expect(outbox.adopt([entry])).toBe(1)
    await outbox.whenDrained()
    expect(transport.delivered).toEqual(['order-1'])
    await outbox.stop()
    running.length = 0
    const reopened = levelStore({ db, prefix: 'outbox', privateKey })
    expect(await reopened.open()).toEqual([])
    await reopened.close()
    expect(await orders.get('order-1')).toEqual({ item: 'lamp' })
  })

  it('keeps first-put order with sends before and after, and a retry keeps its position', async () => {
    const store = levelStore({ db, prefix: 'outbox', privateKey })
    const transport = switchableTransport()
    const { outbox, clock } = await startOutbox(store, transport)
    const send = (id: string) => outbox.send({ id, peer: PEER, protocol: '/p', payload: bytes(id) })
    expect((await send('a')).status).toBe('queued')
    const entry = order('b', clock)
    await db.batch([
      { type: 'put', key: 'order-b', value: { item: 'b' } },
      ...(await store.batchOperations([entry]))
    ])
    outbox.adopt([entry])
    expect((await send('c')).status).toBe('queued')
    // a retry round charges every entry of the peer: the adopted one is rewritten in place
    await clock.advance(1_000)
    await clock.advance(1_000)
    await outbox.stop()
    running.length = 0

    const reopened = levelStore({ db, prefix: 'outbox', privateKey })
    const entries = await reopened.open()
    expect(entries.map((item) => item.id)).toEqual(['a', 'b', 'c'])
    expect(entries.map((item) => item.attempts)).toEqual([3, 2, 2])
    await reopened.close()
  })

  it('a batch that fails leaves neither the record nor the message; the id can be sent again', async () => {
    const store = levelStore({ db, prefix: 'outbox', privateKey })
    const transport = switchableTransport()
    const { outbox, clock } = await startOutbox(store, transport)
    const entry = order('order-2', clock)
    const operations = await store.batchOperations([entry])
    // a value the application's encoding cannot take: abstract-level refuses the whole batch
    await expect(
      db.batch([{ type: 'put', key: 'order-2', value: undefined as never }, ...operations])
    ).rejects.toMatchObject({ code: 'LEVEL_INVALID_VALUE' })
    expect(await db.get('order-2')).toBeUndefined()

    expect(
      (await outbox.send({ id: 'order-2', peer: PEER, protocol: '/p', payload: bytes('again') }))
        .status
    ).toBe('queued')
    await outbox.stop()
    running.length = 0
    const reopened = levelStore({ db, prefix: 'outbox', privateKey })
    const entries = await reopened.open()
    expect(entries.map((item) => [item.id, new TextDecoder().decode(item.payload)])).toEqual([
      ['order-2', 'again']
    ])
    await reopened.close()
  })

  it('one id, one message: the same message again needs no operation, another one is DuplicateIdError', async () => {
    const store = levelStore({ db, prefix: 'outbox', privateKey })
    const { outbox, clock } = await startOutbox(store, switchableTransport())
    const entry = order('order-3', clock)
    await db.batch(await store.batchOperations([entry]))
    outbox.adopt([entry])
    expect(await store.batchOperations([entry])).toEqual([])
    await expect(store.batchOperations([{ ...entry, payload: bytes('other') }])).rejects.toSatisfy(
      (error) => DuplicateIdError.isInstance(error)
    )
    await expect(store.batchOperations([entry, entry])).rejects.toThrow(/appears twice/)
  })

  it('the same id prepared twice before either batch ran keeps one key: both batches land, one entry', async () => {
    const store = levelStore({ db, prefix: 'outbox', privateKey })
    const { outbox, clock } = await startOutbox(store, switchableTransport())
    const entry = order('order-4', clock)
    const first = await store.batchOperations([entry])
    const second = await store.batchOperations([entry])
    expect(second.map((operation) => operation.key)).toEqual(
      first.map((operation) => operation.key)
    )
    await db.batch(first)
    await db.batch(second)
    outbox.adopt([entry])
    await outbox.stop()
    running.length = 0
    const reopened = levelStore({ db, prefix: 'outbox', privateKey })
    expect((await reopened.open()).map((item) => item.id)).toEqual(['order-4'])
    await reopened.close()
  })

  it('needs an open store in the application database', async () => {
    const store = levelStore({ db, prefix: 'outbox', privateKey })
    const entry = createEntry({ peer: PEER, protocol: '/p', payload: bytes('x') }, 'critical')
    await expect(store.batchOperations([entry])).rejects.toSatisfy((error) =>
      StoreClosedError.isInstance(error)
    )
    const own = await temporaryDirectory()
    try {
      const ownStore = levelStore({ location: own.path, privateKey })
      await ownStore.open()
      await expect(ownStore.batchOperations([entry])).rejects.toThrow(/application's own database/)
      await ownStore.close()
    } finally {
      await own.remove()
    }
  })
})

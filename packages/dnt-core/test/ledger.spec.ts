import { describe, expect, it } from 'vitest'
import { memoryStore } from '../src/index.js'
import { Ledger } from '../src/ledger.js'
import { PendingEntry } from '../src/pending-entry.js'
import { FaultStore } from './controlled.js'
import { bytes, PEER_A } from './helpers.js'

const entry = (id: string, text = id): PendingEntry =>
  new PendingEntry({ peer: PEER_A, protocol: '/p', payload: bytes(text) }, id, 'critical', 0)

async function openLedger() {
  const store = new FaultStore(memoryStore())
  await store.open()
  const failures: unknown[] = []
  const ledger = new Ledger(store, {
    onWriteFailed: (error) => failures.push(error),
    onWriteSucceeded: () => {}
  })
  return { store, ledger, failures }
}

describe('the durable ledger', () => {
  it('2. a delete that failed never removes a later put of the same id', async () => {
    const { store, ledger } = await openLedger()
    const first = entry('x', 'first')
    await ledger.put(first)
    store.mode = 'fail'
    ledger.delete(first)
    await ledger.settle()
    store.mode = 'healthy'
    const again = entry('x', 'again')
    const written = ledger.put(again)
    ledger.retry()
    await written
    await ledger.idle()
    expect(
      (await store.contents()).map((stored) => new TextDecoder().decode(stored.payload))
    ).toEqual(['again'])
  })

  it('a batch that failed is written again on retry, with what arrived meanwhile, in first-wish order', async () => {
    const { store, ledger, failures } = await openLedger()
    store.mode = 'fail'
    const a = ledger.put(entry('a'))
    await expect(a).rejects.toThrow(/store write failed/)
    expect(failures.length).toBe(1)
    ledger.putLater(entry('b'))
    ledger.putLater(entry('c'))
    store.mode = 'healthy'
    ledger.retry()
    await ledger.idle()
    expect((await store.contents()).map((stored) => stored.id)).toEqual(['a', 'b', 'c'])
    expect(store.batches.length).toBe(1)
  })

  it('at most one apply in flight; a put and delete of an unwritten entry cost nothing', async () => {
    const { store, ledger } = await openLedger()
    store.mode = 'hang'
    ledger.putLater(entry('a'))
    const b = entry('b')
    ledger.putLater(b)
    expect(store.hanging).toBe(1)
    const c = entry('c')
    ledger.putLater(c)
    ledger.delete(c)
    store.release()
    store.mode = 'healthy'
    await ledger.idle()
    // the first batch left at once; everything after it went in the next one, without c
    expect(store.batches.map((batch) => batch.put?.map((stored) => stored.id))).toEqual([
      ['a'],
      ['b']
    ])
  })

  it('an ambiguous failure (applied, then failed) is repaired: the entry is deleted when asked', async () => {
    const { store, ledger } = await openLedger()
    const a = entry('a')
    store.mode = 'fail-after-apply'
    await expect(ledger.put(a)).rejects.toMatchObject({
      name: 'StoreUnavailableError',
      code: 'DNT_STORE_UNAVAILABLE',
      message: 'store write failed: Error: EIO: injected failure after the write'
    })
    store.mode = 'healthy'
    ledger.delete(a)
    ledger.retry()
    await ledger.idle()
    expect(await store.contents()).toEqual([])
  })

  it('detach() forgets what is pending, and a hung write that lands later changes nothing more', async () => {
    const { store, ledger } = await openLedger()
    store.mode = 'hang'
    ledger.putLater(entry('a'))
    ledger.putLater(entry('b'))
    expect(ledger.detach()).toBe(2)
    store.mode = 'healthy'
    store.release()
    await new Promise((resolve) => setImmediate(resolve))
    expect((await store.contents()).map((stored) => stored.id)).toEqual(['a'])
    await expect(ledger.put(entry('c'))).rejects.toThrow(/given up/)
  })
})

import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { MessageTooLargeError, OutboxFullError } from '../src/index.js'
import { PEER_A, startOutbox } from './helpers.js'

/*
 * The sending side under abuse: a payload over the limit never reaches the
 * store, and capacity limits hold while ten senders push as fast as they can
 * at a peer that is down.
 */

setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

/** JS heap plus ArrayBuffer backing stores (payloads live outside the heap), after a full GC. */
function heapAfterGc(): number {
  for (let round = 0; round < 3; round++) collectGarbage()
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.arrayBuffers
}

const MiB = 1024 * 1024

describe('sender-side limits under a flood', () => {
  it('refuses a payload over maxPayloadBytes before it is stored, queued or attempted', async () => {
    const { outbox, store, transport } = await startOutbox({
      limits: { maxPayloadBytes: 64 * 1024 }
    })
    const oversize = outbox.send(
      { peer: PEER_A, protocol: '/p', payload: new Uint8Array(64 * 1024 + 1) },
      { level: 'critical' }
    )
    await expect(oversize).rejects.toSatisfy((error) => MessageTooLargeError.isInstance(error))
    await expect(oversize).rejects.toThrow(
      /65537 bytes to 12D3KooWPeerA exceeds the maximum of 65536/
    )
    expect(store.batches).toEqual([])
    expect(transport.calls).toEqual([])
    expect(outbox.size).toBe(0)
    // exactly at the limit is fine (the peer is down: it is queued, durably)
    const atLimit = await outbox.send(
      { peer: PEER_A, protocol: '/p', payload: new Uint8Array(64 * 1024) },
      { level: 'critical' }
    )
    expect(atLimit.status).toBe('queued')
    expect((await store.contents()).map((entry) => entry.id)).toEqual([atLimit.id])
    await outbox.stop()
  })

  it('10 concurrent senders against a down peer: OutboxFullError for the excess, memory bounded, every accepted entry stored', async () => {
    const limits = { maxEntries: 3_000, maxBytes: 2 * MiB }
    const { outbox, store } = await startOutbox({ limits })
    const before = heapAfterGc()
    const SENDERS = 10
    const PER_SENDER = 4_000 // 40,000 sends of 1 KiB: 20 times what the limits admit
    const accepted: string[] = []
    const refusals = { full: 0, other: [] as unknown[] }
    const sender = async (index: number) => {
      const pending: Array<Promise<void>> = []
      for (let count = 0; count < PER_SENDER; count++) {
        // a fresh payload each time: if a refused message were kept, the heap would show it
        const payload = new Uint8Array(1024).fill(index)
        pending.push(
          outbox
            .send({ peer: PEER_A, protocol: `/flood/${index}`, payload }, { level: 'critical' })
            .then(
              (result) => {
                expect(result.status).toBe('queued')
                accepted.push(result.id)
              },
              (error: unknown) => {
                if (OutboxFullError.isInstance(error)) refusals.full++
                else refusals.other.push(error)
              }
            )
        )
        // as fast as it can: a batch in flight, then the next, never waiting for durability alone
        if (pending.length === 256) await Promise.all(pending.splice(0))
      }
      await Promise.all(pending)
    }
    await Promise.all(Array.from({ length: SENDERS }, (_, index) => sender(index)))

    expect(refusals.other).toEqual([])
    expect(accepted.length + refusals.full).toBe(SENDERS * PER_SENDER)
    // the byte limit binds first: 2 MiB of 1 KiB payloads
    expect(accepted.length).toBe(2048)
    expect(outbox.stats().bytes).toBe(2 * MiB)
    const growth = heapAfterGc() - before
    // the queue and the store each hold 2 MiB of payload; 38,000 refused KiB left nothing behind
    expect(growth).toBeLessThan(16 * MiB)

    // every accepted (persisted) entry is in the store, and nothing else
    const stored = (await store.contents()).map((entry) => entry.id).sort()
    expect(stored).toEqual([...accepted].sort())
    // group commit: the flood was written in far fewer batches than entries
    expect(store.batches.length).toBeLessThan(accepted.length / 4)
    expect(store.maxConcurrentApplies).toBe(1)
    await outbox.stop()
    const reopened = (await store.contents()).map((entry) => entry.id).sort()
    expect(reopened).toEqual(stored)
  })
})

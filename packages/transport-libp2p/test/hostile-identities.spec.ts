import { DeliveryFailedError } from '@dntkit/core'
import { manualClock, testEntry } from '@dntkit/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { libp2pTransport } from '../src/index.js'
import { capturingLogger, GOOD, handledFrom, serve } from './hostile-peer.js'
import { addrsOf, createNode, stopAll } from './nodes.js'

afterEach(stopAll)

const signal = () => AbortSignal.timeout(10_000)
const MIN_AGE = 60_000

describe('fresh identities cost nothing: they cannot make the receiver forget a recent id', () => {
  it('a full window of recent ids answers new ids try-later (dedupe-full) instead of forgetting a good peer’s; after minAge it takes them', async () => {
    const clock = manualClock()
    const logs = capturingLogger()
    const served = await serve({
      clock,
      logger: logs.factory,
      dedupe: { maxEntries: 3, minAge: MIN_AGE, protectedPerPeer: 1 }
    })
    const target = { peer: served.node.peerId.toString(), addrs: addrsOf(served.node) }
    const good = await createNode()
    const goodTransport = libp2pTransport(good, { mode: 'envelope' })
    const message = testEntry({ ...target, protocol: GOOD, id: 'exactly-once' })
    await goodTransport.deliver(message, { signal: signal() })

    // three fresh identities, one id each: two fit, the third would push out a recent id
    const sybils = await Promise.all([createNode(), createNode(), createNode()])
    const transports = sybils.map((node) => libp2pTransport(node, { mode: 'envelope' }))
    const sent = (index: number) =>
      (transports[index] as ReturnType<typeof libp2pTransport>).deliver(
        testEntry({ ...target, protocol: GOOD, id: `sybil-${index}` }),
        { signal: signal() }
      )
    await clock.advance(1_000)
    await sent(0)
    await sent(1)
    const refused = await sent(2).then(
      () => undefined,
      (error: unknown) => error
    )
    expect(DeliveryFailedError.isInstance(refused)).toBe(true)
    expect((refused as Error).message).toMatch(
      /later: dedupe-full: the dedupe window is full of recent ids of other peers/
    )
    expect(served.handle.stats().tryLater['dedupe-full']).toBe(1)
    expect(handledFrom(served, sybils[2] as (typeof sybils)[number])).toEqual([])

    // the good peer's retry (its ack was lost, say) is still a duplicate: its handler ran once
    await goodTransport.deliver({ ...message }, { signal: signal() })
    expect(handledFrom(served, good)).toEqual(['exactly-once'])
    expect(served.handle.stats()).toMatchObject({
      duplicates: 1,
      dedupeEvicted: 0,
      dedupeProtectedEvicted: 0,
      dedupeEntries: 3
    })

    // once the oldest id is minAge old it may go: the third identity's retry gets in
    await clock.advance(MIN_AGE)
    await sent(2)
    expect(handledFrom(served, sybils[2] as (typeof sybils)[number])).toEqual(['sybil-2'])
    expect(served.handle.stats()).toMatchObject({ dedupeEvicted: 1, dedupeProtectedEvicted: 0 })
    expect(logs.lines.some((line) => line.includes('dedupe window: forgot'))).toBe(true)
    await Promise.all([goodTransport, ...transports].map((transport) => transport.close()))
  })
})

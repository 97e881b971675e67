import { describe, expect, it } from 'vitest'
import { definePolicy } from '../src/index.js'
import { manualClock } from '../src/testing/index.js'
import { FaultStore } from './controlled.js'
import { bytes, FakeTransport, PEER_A, record, startOutbox } from './helpers.js'

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

describe('a bounded stop (#19)', () => {
  it('stop() is bounded on the injected clock: a hung delivery is aborted, a hung store given up on', async () => {
    const clock = manualClock()
    const store = new FaultStore()
    const transport = new FakeTransport()
    const { outbox } = await startOutbox({
      policy,
      clock,
      transport,
      store: store as never,
      stopTimeout: 2_000
    })
    const kept = await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('k') })
    transport.set(PEER_A, 'hang')
    await clock.advance(1_000)
    store.mode = 'hang'
    const events = record(outbox, 'store-error')
    let stopped = false
    const stopping = outbox.stop().then(() => {
      stopped = true
    })
    await clock.advance(1_999)
    expect(stopped).toBe(false)
    await clock.advance(1)
    // the hung delivery was aborted without being charged; the store is still flushed
    await clock.advance(2_000)
    await stopping
    expect(stopped).toBe(true)
    expect(events).toEqual([])
    // nothing accepted was lost: the queued entry is still on disk
    expect((await store.contents()).map((entry) => entry.id)).toEqual([kept.id])

    // again, with a delete pending when the store hangs: stop() gives up after stopTimeout
    store.mode = 'healthy'
    transport.set(PEER_A, 'up')
    const next = await startOutbox({
      policy,
      clock,
      transport,
      store: store as never,
      stopTimeout: 2_000
    })
    store.mode = 'hang'
    await next.outbox.flush()
    expect(transport.deliveredTo(PEER_A)).toEqual([kept.id])
    let done = false
    const giving = next.outbox.stop().then(() => {
      done = true
    })
    await clock.advance(1_999)
    expect(done).toBe(false)
    expect(store.hanging).toBe(1)
    await clock.advance(1)
    await giving
    // the delete never landed: after a restart the message is delivered again (at-least-once)
    expect((await store.contents()).map((entry) => entry.id)).toEqual([kept.id])
  })
})

import { describe, expect, it } from 'vitest'
import { definePolicy } from '../src/index.js'
import { bytes, PEER_A, startOutbox } from './helpers.js'

const policy = definePolicy({
  levels: { critical: { backoff: { type: 'fixed', interval: 1_000 } } }
})

const message = (id: string) => ({ id, peer: PEER_A, protocol: '/p', payload: bytes(id) })

/**
 * The Outbox's events come from main-event's `TypedEventEmitter`, and the
 * Outbox builds an event only while someone listens (`listenerCount`). A
 * count kept by hand once went wrong both ways; these pin it through the
 * Outbox's own events.
 */
describe('Outbox events: who listens is counted right', () => {
  it('removing a listener that was never added does not silence one that was', async () => {
    const { outbox } = await startOutbox({ policy })
    const heard: string[] = []
    const listener = (event: CustomEvent<{ entry: { id: string } }>) =>
      heard.push(event.detail.entry.id)
    outbox.addEventListener('queued', listener)
    outbox.removeEventListener('queued', () => {})
    outbox.removeEventListener('queued', () => {})
    await outbox.send(message('a'))
    expect(heard).toEqual(['a'])
    expect(outbox.listenerCount('queued')).toBe(1)
    // the same listener added twice is one listener: removed once, it hears nothing more
    outbox.addEventListener('queued', listener)
    outbox.removeEventListener('queued', listener)
    expect(outbox.listenerCount('queued')).toBe(0)
    await outbox.send(message('b'))
    expect(heard).toEqual(['a'])
  })

  it('a once listener is uncounted after it fired; one whose signal aborted is too', async () => {
    const { outbox, transport, clock } = await startOutbox({ policy })
    const heard: string[] = []
    outbox.addEventListener('delivered', (event) => heard.push(`once:${event.detail.entry.id}`), {
      once: true
    })
    const controller = new AbortController()
    outbox.addEventListener('queued', (event) => heard.push(`signal:${event.detail.entry.id}`), {
      signal: controller.signal
    })
    expect([outbox.listenerCount('delivered'), outbox.listenerCount('queued')]).toEqual([1, 1])
    await outbox.send(message('a'))
    controller.abort()
    expect(outbox.listenerCount('queued')).toBe(0)
    transport.set(PEER_A, 'up')
    await clock.advance(1_000)
    expect(outbox.listenerCount('delivered')).toBe(0)
    await outbox.send(message('b'))
    expect(heard).toEqual(['signal:a', 'once:a'])
    // a listener added after those is heard: nothing left over in the count either way
    outbox.addEventListener('delivered', (event) => heard.push(`later:${event.detail.entry.id}`))
    await outbox.send(message('c'))
    expect(heard).toEqual(['signal:a', 'once:a', 'later:c'])
  })
})

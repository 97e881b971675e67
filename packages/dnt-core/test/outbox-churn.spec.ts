import { describe, expect, it } from 'vitest'
import {
  DeliveryFailedError,
  definePolicy,
  type Entry,
  Outbox,
  PeerUnreachableError,
  type Transport
} from '../src/index.js'
import { manualClock } from '../src/testing/index.js'
import { bytes, PEER_A, record } from './helpers.js'

const MINUTE = 60_000

/** A peer whose connection flaps while its protocol handler keeps failing. */
class FlappingPeer implements Transport {
  attempts = 0
  private readonly listeners = new Set<(peer: string) => void>()

  async deliver(_entry: Entry): Promise<void> {
    this.attempts++
    throw new DeliveryFailedError('stream reset by the handler', { reason: 'reset' })
  }

  connect(): void {
    for (const listener of this.listeners) listener(PEER_A)
  }

  onReachable(listener: (peer: string) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}

/** Attempts the level's backoff allows in `duration` ms with no reconnect at all (jitter off). */
function scheduledAttempts(initial: number, max: number, duration: number): number {
  let at = 0
  let attempts = 1
  for (let failures = 1; ; failures++) {
    at += Math.min(max, initial * 2 ** (failures - 1))
    if (at > duration) return attempts
    attempts++
  }
}

describe('connection churn does not defeat backoff (#19 item 11)', () => {
  it('a peer flapping every 200 ms for 10 simulated minutes, handler failing: attempts stay within the backoff', async () => {
    const clock = manualClock()
    const transport = new FlappingPeer()
    const policy = definePolicy({
      levels: {
        critical: {
          backoff: { type: 'exponential', initial: 1_000, max: 5 * MINUTE, jitter: 'none' }
        }
      }
    })
    const outbox = new Outbox({ transport, clock, policy })
    await outbox.start()
    const failures = record(outbox, 'attempt-failed')
    await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('x') })
    for (let elapsed = 0; elapsed < 10 * MINUTE; elapsed += 200) {
      transport.connect()
      await clock.advance(200)
    }
    const allowed = scheduledAttempts(1_000, 5 * MINUTE, 10 * MINUTE)
    // at most one early attempt per backoff window on top of the scheduled ones
    expect(transport.attempts).toBeLessThanOrEqual(2 * allowed)
    expect(transport.attempts).toBeGreaterThan(allowed / 2)
    // only a delivery resets the failure count: it grew with every attempt
    expect(failures.map((event) => event.detail.failures)).toEqual(
      Array.from({ length: transport.attempts }, (_, index) => index + 1)
    )
    await outbox.stop()
  })

  it('a reconnect during backoff makes one early attempt, and a second reconnect in the same window none', async () => {
    const clock = manualClock()
    const transport = new FlappingPeer()
    const policy = definePolicy({
      levels: { critical: { backoff: { type: 'fixed', interval: MINUTE } } }
    })
    const outbox = new Outbox({ transport, clock, policy })
    await outbox.start()
    await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('x') })
    expect(transport.attempts).toBe(1)
    transport.connect()
    await clock.advance(0)
    expect(transport.attempts).toBe(2)
    transport.connect()
    transport.connect()
    await clock.advance(30_000)
    expect(transport.attempts).toBe(2)
    // the window the early attempt opened ends: a scheduled attempt, then reconnects are early again
    await clock.advance(30_000)
    expect(transport.attempts).toBe(3)
    transport.connect()
    await clock.advance(0)
    expect(transport.attempts).toBe(4)
    await outbox.stop()
  })
})

describe('a reconnect while an attempt runs', () => {
  it('after an attempt that found no connection, the next is early (once per window); after a message failure, not', async () => {
    const { ControlledTransport } = await import('./controlled.js')
    const { manualClock } = await import('../src/testing/index.js')
    const clock = manualClock()
    const transport = new ControlledTransport()
    const policy = definePolicy({
      levels: { critical: { backoff: { type: 'fixed', interval: MINUTE } } }
    })
    const outbox = new Outbox({ transport, clock, policy })
    await outbox.start()
    const sent = outbox.send({ id: 'x', peer: PEER_A, protocol: '/p', payload: bytes('x') })
    await clock.advance(0)
    transport.reachable(PEER_A) // the peer connected to us while our dial was still failing
    transport.of('x').fail(new PeerUnreachableError('dial timed out'))
    expect((await sent).status).toBe('queued')
    await clock.advance(1)
    expect(transport.calls).toEqual(['x', 'x'])
    // the early attempt of this window is spent: another reconnect during it changes nothing
    transport.reachable(PEER_A)
    transport.of('x').fail(new PeerUnreachableError('still no connection'))
    await clock.advance(30_000)
    expect(transport.calls).toEqual(['x', 'x'])
    await clock.advance(30_000)
    expect(transport.calls).toEqual(['x', 'x', 'x'])
    transport.of('x').succeed()
    await clock.advance(0)
    // a failure of the message itself: the reachable event was this attempt's own connection
    const other = outbox.send({ id: 'y', peer: PEER_A, protocol: '/p', payload: bytes('y') })
    await clock.advance(0)
    transport.reachable(PEER_A)
    transport.of('y').fail(new DeliveryFailedError('the handler was not registered yet'))
    expect((await other).status).toBe('queued')
    await clock.advance(1)
    expect(transport.calls.filter((id) => id === 'y')).toEqual(['y'])
    await outbox.stop()
  })
})

import { describe, expect, it } from 'vitest'
import { definePolicy, memoryStore, Outbox, type Policy, validatePolicy } from '../src/index.js'
import { MIN_BACKOFF } from '../src/retry-rules.js'
import { manualClock } from '../src/testing/index.js'
import { bytes, FakeTransport, PEER_A, PEER_B, record, startOutbox } from './helpers.js'

describe('time: monotonic scheduling, restored times, broken backoffs (#19 items 6 and 8)', () => {
  it('8. a wall-clock step backwards delays no retry: scheduling runs on monotonic time', async () => {
    const policy = definePolicy({
      levels: { critical: { backoff: { type: 'fixed', interval: 10_000 } } }
    })
    const { outbox, transport, clock } = await startOutbox({ policy })
    await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('x') })
    transport.set(PEER_A, 'up')
    clock.stepWall(-3_600_000)
    await clock.advance(10_000)
    expect(transport.deliveredTo(PEER_A).length).toBe(1)
  })

  it('8. a wall-clock step forwards hurries no retry and expires nothing', async () => {
    const policy = definePolicy({
      levels: { critical: { ttl: 60_000, backoff: { type: 'fixed', interval: 10_000 } } }
    })
    const { outbox, transport, clock } = await startOutbox({ policy })
    await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('x') })
    clock.stepWall(3_600_000)
    await clock.advance(9_999)
    expect(transport.attemptsTo(PEER_A)).toBe(1)
    expect(outbox.size).toBe(1)
  })

  it('8. a restored nextAttemptAt far in the future is clamped to now + the level backoff max', async () => {
    const clock = manualClock()
    const policy = definePolicy({
      levels: {
        critical: { backoff: { type: 'exponential', initial: 1_000, max: 60_000, jitter: 'none' } }
      }
    })
    const farAhead = clock.now() + 365 * 24 * 3_600_000
    const store = memoryStore({
      entries: [
        {
          id: 'from-a-fast-clock',
          peer: PEER_A,
          protocol: '/p',
          payload: bytes('x'),
          level: 'critical',
          attempts: 3,
          createdAt: clock.now(),
          nextAttemptAt: farAhead
        }
      ]
    })
    const transport = new FakeTransport()
    transport.set(PEER_A, 'up')
    const outbox = new Outbox({ transport, store, clock, policy })
    await outbox.start()
    await clock.advance(59_999)
    expect(transport.deliveredTo(PEER_A)).toEqual([])
    await clock.advance(1)
    expect(transport.deliveredTo(PEER_A)).toEqual(['from-a-fast-clock'])
    await outbox.stop()
  })

  it('6. levels are validated when the outbox is made, naming the level and field', () => {
    const bad = (backoff: unknown): Policy => ({
      levels: {
        critical: {
          persist: true,
          maxRetries: Infinity,
          ttl: Infinity,
          backoff,
          onExhausted: 'drop'
        }
      } as never,
      protocols: {},
      fallback: 'critical',
      flushOnReachable: true
    })
    const transport = new FakeTransport()
    const make = (policy: Policy) => () => new Outbox({ transport, policy })
    expect(make(bad({ type: 'fixed', interval: 0 }))).toThrow(
      /policy\.levels\.critical\.backoff\.interval must be a number of milliseconds > 0/
    )
    expect(make(bad({ type: 'fixed', interval: Number.NaN }))).toThrow(/backoff\.interval/)
    expect(make(bad({ type: 'exponential', initial: 1_000, max: 10 }))).toThrow(
      /backoff\.max must be a number of milliseconds >= initial/
    )
    expect(make(bad({ type: 'exponential', initial: 100, max: 1_000, factor: 0.5 }))).toThrow(
      /backoff\.factor must be a number >= 1/
    )
    expect(make(bad({ type: 'fixed', interval: 5, jitter: 'full' }))).toThrow(
      /backoff\.jitter is not an option of a fixed backoff/
    )
    expect(() =>
      validatePolicy({
        ...definePolicy(),
        levels: { critical: { ...definePolicy().levels.critical, retries: 3 } as never }
      })
    ).toThrow(/policy\.levels\.critical\.retries is not an option/)
    expect(() => definePolicy({ level: {} } as never)).toThrow(/policy\.level is not an option/)
  })

  it('6. a backoff function that returns NaN, a negative number or Infinity, or throws, is replaced by the default and logged once', async () => {
    const broken = [
      () => Number.NaN,
      () => -5,
      () => Infinity,
      () => {
        throw new Error('bug')
      }
    ]
    for (const backoff of broken) {
      const errors: string[] = []
      const logger = (_name: string) => {
        const log = Object.assign(() => {}, {
          error: (format: string) => errors.push(format),
          trace: () => {},
          enabled: false
        })
        return log as never
      }
      const policy = definePolicy({ levels: { critical: { backoff } } })
      const { outbox, transport, clock } = await startOutbox({ policy, logger })
      const failures = record(outbox, 'attempt-failed')
      await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('x') })
      await outbox.send({ peer: PEER_B, protocol: '/p', payload: bytes('y') })
      // the default backoff (random fixed at 0.5 by the harness): 100 + 0.5 * 900 = 550 ms
      expect(failures.map((event) => event.detail.nextAttemptAt - clock.now())).toEqual([550, 550])
      await clock.advance(550)
      expect(transport.attemptsTo(PEER_A)).toBe(2)
      expect(errors.filter((line) => line.includes('backoff function')).length).toBe(1)
      await outbox.stop()
    }
  })

  it('6. no wait after a failure is shorter than 100 ms (MIN_BACKOFF): a zero backoff never retries in a hot loop', async () => {
    const exponentialToZero = {
      type: 'exponential' as const,
      initial: 1_000,
      max: 60_000,
      minimum: 0,
      jitter: 'full' as const
    }
    for (const backoff of [() => 0, { type: 'fixed' as const, interval: 1 }, exponentialToZero]) {
      const policy = definePolicy({ levels: { critical: { backoff } } })
      // random() = 0: a full-jitter draw of exactly its minimum, 0
      const { outbox, transport, clock } = await startOutbox({ policy, random: () => 0 })
      const failures = record(outbox, 'attempt-failed')
      await outbox.send({ peer: PEER_A, protocol: '/p', payload: bytes('x') })
      expect(failures.map((event) => event.detail.nextAttemptAt - clock.now())).toEqual([
        MIN_BACKOFF
      ])
      await clock.advance(MIN_BACKOFF - 1)
      expect(transport.attemptsTo(PEER_A)).toBe(1)
      await clock.advance(1)
      expect(transport.attemptsTo(PEER_A)).toBe(2)
      // 10 simulated seconds of a peer that stays down: one attempt every 100 ms, no more
      await clock.advance(10_000 - MIN_BACKOFF)
      expect(transport.attemptsTo(PEER_A)).toBe(1 + 10_000 / MIN_BACKOFF)
      await outbox.stop()
    }
  })
})

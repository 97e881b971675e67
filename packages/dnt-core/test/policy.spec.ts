import { describe, expect, it } from 'vitest'
import {
  defaultPreset,
  definePolicy,
  levelOf,
  ocDiscoveryPreset,
  validatePolicy
} from '../src/index.js'
import { backoffDelay } from '../src/plugin/index.js'

describe('policy', () => {
  it('the oc-discovery preset mirrors the Go original', () => {
    const policy = ocDiscoveryPreset({
      critical: ['/create', '/update', '/delete'],
      moderate: ['/verify']
    })
    expect(policy.levels.critical).toMatchObject({
      persist: true,
      maxRetries: Infinity,
      backoff: { type: 'fixed', interval: 15_000 }
    })
    expect(policy.levels.moderate).toMatchObject({
      persist: false,
      maxRetries: 3,
      backoff: { type: 'fixed', interval: 15_000 }
    })
    expect(levelOf(policy, '/update')).toBe('critical')
    expect(levelOf(policy, '/verify')).toBe('moderate')
    expect(levelOf(policy, '/search')).toBe('none')
    expect(policy.flushOnReachable).toBe(false)
  })

  it('the default preset: exponential backoff with full jitter, flush on reconnect, critical fallback', () => {
    const policy = defaultPreset()
    expect(policy.levels.critical?.backoff).toMatchObject({
      type: 'exponential',
      initial: 1_000,
      max: 300_000,
      jitter: 'full'
    })
    expect(policy.flushOnReachable).toBe(true)
    expect(levelOf(policy, '/anything')).toBe('critical')
  })

  it('definePolicy merges levels over the base and reads null as Infinity (JSON files)', () => {
    const policy = definePolicy(
      JSON.parse(
        '{"levels":{"audit":{"persist":true,"maxRetries":null,"ttl":60000}},"protocols":{"/audit":"audit"}}'
      )
    )
    expect(policy.levels.audit).toMatchObject({
      persist: true,
      maxRetries: Infinity,
      ttl: 60_000,
      onExhausted: 'drop'
    })
    expect(levelOf(policy, '/audit')).toBe('audit')
    expect(policy.levels.critical).toEqual(defaultPreset().levels.critical)
  })

  it('names the wrong field', () => {
    expect(() => definePolicy({ protocols: { '/x': 'ghost' } })).toThrow(
      'policy.protocols["/x"] names unknown level "ghost"'
    )
    expect(() => definePolicy({ levels: { bad: { maxRetries: -1 } } })).toThrow(
      'policy.levels.bad.maxRetries'
    )
    expect(() =>
      definePolicy({ levels: { bad: { backoff: { type: 'linear' } as never } } })
    ).toThrow('backoff.type')
    expect(() => definePolicy({ levels: { none: {} } })).toThrow(/reserved/)
    expect(() => definePolicy({ fallback: 'nope' })).toThrow('policy.fallback')
    expect(() => validatePolicy({ ...defaultPreset(), flushOnReachable: 'yes' as never })).toThrow(
      'flushOnReachable'
    )
  })
})

describe('backoff', () => {
  it('fixed, exponential (capped, jittered between minimum and cap) and user functions', () => {
    expect(backoffDelay({ type: 'fixed', interval: 15_000 }, 7)).toBe(15_000)
    const exponential = { type: 'exponential' as const, initial: 1_000, max: 300_000 }
    expect(backoffDelay({ ...exponential, jitter: 'none' }, 1)).toBe(1_000)
    expect(backoffDelay({ ...exponential, jitter: 'none' }, 4)).toBe(8_000)
    expect(backoffDelay({ ...exponential, jitter: 'none' }, 30)).toBe(300_000)
    expect(backoffDelay(exponential, 4, () => 0)).toBe(100)
    expect(backoffDelay(exponential, 4, () => 0.999999)).toBeCloseTo(8_000, 0)
    expect(backoffDelay((failures) => failures * 10, 3)).toBe(30)
    expect(() => backoffDelay(() => -1, 1)).toThrow(RangeError)
  })
})

describe('typed errors', () => {
  it('isInstance holds for the class, its subclasses and copies from another realm, and nothing else', async () => {
    const { DeliveryFailedError, DntError, PeerUnreachableError } = await import('../src/index.js')
    class TryLater extends DeliveryFailedError {
      static override readonly code = 'APP_TRY_LATER'
      override readonly name = 'TryLater'
    }
    class Plain extends PeerUnreachableError {}
    const tryLater = new TryLater('busy')
    expect(TryLater.isInstance(tryLater)).toBe(true)
    expect(DeliveryFailedError.isInstance(tryLater)).toBe(true)
    expect(DntError.isInstance(tryLater)).toBe(true)
    expect(PeerUnreachableError.isInstance(tryLater)).toBe(false)
    expect(PeerUnreachableError.isInstance(new Plain('x'))).toBe(true)
    expect(tryLater.code).toBe('APP_TRY_LATER')
    // what a copy from another realm or package instance looks like: the same codes, another class
    const foreign = Object.assign(new Error('x'), { code: 'DNT_DELIVERY_FAILED' })
    expect(DeliveryFailedError.isInstance(foreign)).toBe(true)
    expect(DeliveryFailedError.isInstance({ code: 'DNT_PEER_UNREACHABLE' })).toBe(false)
    expect(DeliveryFailedError.isInstance('DNT_DELIVERY_FAILED')).toBe(false)
  })
})

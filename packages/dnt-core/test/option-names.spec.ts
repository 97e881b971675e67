import { describe, expect, it } from 'vitest'
import { defaultPreset, definePolicy, memoryStore, ocDiscoveryPreset } from '../src/index.js'
import { rejectUnknownOptions } from '../src/plugin/index.js'
import { bytes, PEER_A, PEER_B, startOutbox } from './helpers.js'

const policy = definePolicy({
  levels: { critical: { backoff: { type: 'fixed', interval: 1_000 } } }
})

describe('unknown option names are a TypeError naming the option, everywhere', () => {
  it('memoryStore()', () => {
    expect(() => memoryStore({ readonly: true } as never)).toThrow(
      new TypeError('memoryStore: unknown option "readonly"')
    )
    expect(() => memoryStore({ readOnly: true, entries: [] })).not.toThrow(TypeError)
  })

  it('the presets', () => {
    expect(() => defaultPreset({ protocol: { '/p': 'moderate' } } as never)).toThrow(
      new TypeError('defaultPreset(): unknown option "protocol"')
    )
    // a misspelt list used to give a preset that caches none of those protocols
    expect(() => ocDiscoveryPreset({ critcal: ['/p'] } as never)).toThrow(
      new TypeError('ocDiscoveryPreset(): unknown option "critcal"')
    )
    expect(() => ocDiscoveryPreset(null as never)).toThrow(
      new TypeError('ocDiscoveryPreset() must be an options object')
    )
  })

  it("the Outbox's filters and selectors: entries(), purge(), whenDrained()", async () => {
    const { outbox } = await startOutbox({ policy })
    await outbox.send({ id: 'a', peer: PEER_A, protocol: '/p', payload: bytes('a') })
    await outbox.send({ id: 'b', peer: PEER_B, protocol: '/p', payload: bytes('b') })
    // a misspelt filter used to list every peer's entries
    expect(() => outbox.entries({ peers: PEER_A } as never)).toThrow(
      new TypeError('entries() filter: unknown option "peers"')
    )
    await expect(outbox.purge({ peers: PEER_A } as never)).rejects.toThrow(
      new TypeError('purge() selector: unknown option "peers"')
    )
    await expect(outbox.purge({ peer: PEER_A, all: true } as never)).rejects.toThrow(
      new TypeError('purge() takes exactly one of ids, peer or all (got peer, all)')
    )
    await expect(outbox.purge({ all: false } as never)).rejects.toThrow(
      new TypeError('purge() selector all must be true')
    )
    await expect(outbox.whenDrained({ signl: AbortSignal.abort() } as never)).rejects.toThrow(
      new TypeError('whenDrained() options: unknown option "signl"')
    )
    // nothing was removed by the refused calls
    expect(outbox.entries().map((entry) => entry.id)).toEqual(['a', 'b'])
  })

  it('rejectUnknownOptions() (@dntkit/core/plugin) names the first unknown key; an undefined value is ignored', () => {
    expect(() => rejectUnknownOptions({ a: 1, b: 2 }, ['a'], 'thing()')).toThrow(
      new TypeError('thing(): unknown option "b"')
    )
    expect(() => rejectUnknownOptions({ a: 1, b: undefined }, ['a'], 'thing()')).not.toThrow(
      TypeError
    )
  })
})

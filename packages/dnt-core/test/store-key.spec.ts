import { describe, expect, it } from 'vitest'
import { ed25519FromSeed } from '../src/index.js'
import { StoreKey } from '../src/plugin/index.js'

const nodeKey = ed25519FromSeed(new Uint8Array(32).fill(3))
const givenKey = ed25519FromSeed(new Uint8Array(32).fill(4))

describe('StoreKey: where a store key comes from', () => {
  it("a store made without a key takes the node's (useNode); one made with a key keeps its own", () => {
    const byNode = new StoreKey({}, 'someStore()')
    expect(byNode.origin).toBe('node')
    expect(() => byNode.source('store X')).toThrow(TypeError)
    expect(() => byNode.source('store X')).toThrow(/store X has no key: pass `privateKey`/)
    byNode.useNode({ privateKey: nodeKey })
    expect(byNode.source('store X')).toEqual({ privateKey: nodeKey })

    const given = new StoreKey({ privateKey: givenKey }, 'someStore()')
    given.useNode({ privateKey: nodeKey })
    expect(given.source('store X')).toEqual({ privateKey: givenKey })
    const raw = new StoreKey({ key: new Uint8Array(32) }, 'someStore()')
    expect(raw.origin).toBe('key')
    expect(raw.source('store X')).toEqual({ key: new Uint8Array(32) })

    const plain = new StoreKey({ encryption: false }, 'someStore()')
    plain.useNode({ privateKey: nodeKey })
    expect(plain.encrypted).toBe(false)
    expect(plain.source('store X')).toBeUndefined()
    // a node without a key lends nothing
    const keyless = new StoreKey({}, 'someStore()')
    keyless.useNode({})
    expect(() => keyless.source('store X')).toThrow(TypeError)
  })

  it('a key together with encryption: false, or a non-boolean encryption, is a TypeError naming the store', () => {
    expect(() => new StoreKey({ privateKey: givenKey, encryption: false }, 'someStore()')).toThrow(
      'someStore() got `encryption: false` together with a key: pass one or the other'
    )
    expect(() => new StoreKey({ encryption: 'no' as never }, 'someStore()')).toThrow(
      /`encryption` must be a boolean/
    )
  })

  it("the mismatch message says the node's key differs, with the identity hint for a node's key", () => {
    expect(new StoreKey({}, 's()').mismatch('store X')).toMatch(
      /^store X: the node's key differs from the one this store was written with \(the store key follows the libp2p node's identity: .*new identity at every start/
    )
    expect(new StoreKey({ privateKey: givenKey }, 's()').mismatch('store X')).toBe(
      "store X: the node's key differs from the one this store was written with; nothing was read or changed"
    )
    expect(new StoreKey({ key: new Uint8Array(32) }, 's()').mismatch('store X')).toMatch(
      /the key given differs/
    )
  })
})

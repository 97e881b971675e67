import { StoreKeyMismatchError } from '@dntkit/core'
import { testEntry } from '@dntkit/core/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { levelStore } from '../src/index.js'
import { otherPrivateKey, privateKey, rawContents, temporaryDirectory } from './fixtures.js'

let directory: { path: string; remove(): Promise<void> }
let location: string

beforeEach(async () => {
  directory = await temporaryDirectory()
  location = directory.path
})

afterEach(async () => {
  await directory.remove()
})

const isMismatch = (error: unknown): boolean => StoreKeyMismatchError.isInstance(error)

describe("a store made without a key takes the node's (useNode)", () => {
  it('encrypts with the node key: the same node reopens it, the same key given directly too', async () => {
    const store = levelStore({ location })
    store.useNode({ privateKey })
    await store.open()
    const entry = testEntry({ id: 'kept', payload: new TextEncoder().encode('secret payload') })
    await store.apply({ put: [entry] })
    await store.close()
    const raw = [...(await rawContents(location)).values()].join()
    expect(raw).not.toContain(Buffer.from('secret payload').toString('hex'))

    const again = levelStore({ location })
    again.useNode({ privateKey })
    expect((await again.open()).map((item) => item.id)).toEqual(['kept'])
    await again.close()
    const given = levelStore({ location, privateKey })
    expect((await given.open()).map((item) => item.id)).toEqual(['kept'])
    await given.close()
  })

  it("another node key is StoreKeyMismatchError: the node's key differs, with the hint about libp2p identities", async () => {
    const store = levelStore({ location })
    store.useNode({ privateKey })
    await store.open()
    await store.apply({ put: [testEntry({ id: 'a' })] })
    await store.close()
    const before = await rawContents(location)

    const other = levelStore({ location })
    other.useNode({ privateKey: otherPrivateKey })
    const opening = other.open()
    await expect(opening).rejects.toSatisfy(isMismatch)
    await expect(opening).rejects.toThrow(
      "the node's key differs from the one this store was written with"
    )
    await expect(opening).rejects.toThrow(/new identity at every start/)
    expect(await rawContents(location)).toEqual(before)
  })

  it('a key given to the store wins over the node key; encryption: false stays plaintext', async () => {
    const given = levelStore({ location, privateKey })
    given.useNode({ privateKey: otherPrivateKey })
    await given.open()
    await given.apply({ put: [testEntry({ id: 'a' })] })
    await given.close()
    const byNode = levelStore({ location })
    byNode.useNode({ privateKey })
    expect((await byNode.open()).map((item) => item.id)).toEqual(['a'])
    await byNode.close()

    const plainDirectory = await temporaryDirectory()
    try {
      const plain = levelStore({ location: plainDirectory.path, encryption: false })
      plain.useNode({ privateKey })
      await plain.open()
      await plain.close()
      const encrypted = levelStore({ location: plainDirectory.path })
      encrypted.useNode({ privateKey })
      await expect(encrypted.open()).rejects.toThrow(/written without encryption/)
    } finally {
      await plainDirectory.remove()
    }
  })
})

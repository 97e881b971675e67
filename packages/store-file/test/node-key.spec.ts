import { join } from 'node:path'
import { StoreKeyMismatchError } from '@dntkit/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fileStore } from '../src/index.js'
import { entry, type TemporaryDirectory, temporaryDirectory, testPrivateKey } from './fixtures.js'

let directory: TemporaryDirectory
let location: string

beforeEach(async () => {
  directory = await temporaryDirectory()
  location = join(directory.path, 'store')
})

afterEach(async () => {
  await directory.remove()
})

describe("the node's key (useNode, from the dnt() service)", () => {
  it('without a key: open() is a TypeError, unless the node lends its key (useNode)', async () => {
    await expect(fileStore({ directory: location }).open()).rejects.toThrow(
      /has no key: pass `privateKey`.*dnt\(\) service/
    )
    const byNode = fileStore({ directory: location })
    byNode.useNode({ privateKey: testPrivateKey() })
    await byNode.open()
    await byNode.apply({ put: [entry('a')] })
    await byNode.close()
    const given = fileStore({ directory: location, privateKey: testPrivateKey() })
    expect(await given.open()).toEqual([entry('a')])
    await given.close()
    const otherNode = fileStore({ directory: location })
    otherNode.useNode({ privateKey: testPrivateKey(2) })
    const opening = otherNode.open()
    await expect(opening).rejects.toSatisfy((error) => StoreKeyMismatchError.isInstance(error))
    await expect(opening).rejects.toThrow(
      "the node's key differs from the one this store was written with"
    )
  })
})

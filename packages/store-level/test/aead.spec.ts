import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DecryptionError } from '@dntkit/core'
import { createAead, deriveStoreKey, open, seal } from '@dntkit/core/plugin'
import { storeSuite, testEntry } from '@dntkit/core/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { levelStore } from '../src/index.js'
import { privateKey, temporaryDirectory } from './fixtures.js'

const LABEL = 'dntkit/store-level/v1'
const associatedData = Uint8Array.from([1, 2, 3])

/** Runs `body` as if in a browser: no `process.getBuiltinModule`, so only WebCrypto. */
async function withoutNodeCrypto<T>(body: () => Promise<T>): Promise<T> {
  const host = process as unknown as { getBuiltinModule?: unknown }
  const original = host.getBuiltinModule
  host.getBuiltinModule = undefined
  try {
    return await body()
  } finally {
    host.getBuiltinModule = original
  }
}

describe('AEAD', () => {
  it("node:crypto and the core WebCrypto helpers read each other's records", async () => {
    const fast = await createAead({ privateKey }, LABEL)
    const web = await deriveStoreKey(privateKey, LABEL)
    const plaintext = Uint8Array.from({ length: 300 }, (_, index) => index & 0xff)
    const sealedFast = await fast.seal(plaintext, associatedData)
    expect(await open(web, sealedFast, associatedData)).toEqual(plaintext)
    const sealedWeb = await seal(web, plaintext, associatedData)
    expect(new Uint8Array(await fast.open(sealedWeb, associatedData))).toEqual(plaintext)
    // fresh nonces
    expect(sealedFast.subarray(0, 12)).not.toEqual(
      (await fast.seal(plaintext, associatedData)).subarray(0, 12)
    )
  })

  it('rejects altered bytes, other associated data and short records with DecryptionError', async () => {
    const fast = await createAead({ key: new Uint8Array(32).fill(5) }, LABEL)
    const sealed = await fast.seal(new Uint8Array(10), associatedData)
    const altered = sealed.slice()
    altered[15] = (altered[15] as number) ^ 1
    const isDecryption = (error: unknown): boolean => DecryptionError.isInstance(error)
    // node:crypto throws synchronously, WebCrypto rejects: both count
    const opening = async (sealedBytes: Uint8Array, data: Uint8Array) =>
      fast.open(sealedBytes, data)
    await expect(opening(altered, associatedData)).rejects.toSatisfy(isDecryption)
    await expect(opening(sealed, Uint8Array.from([1, 2]))).rejects.toSatisfy(isDecryption)
    await expect(opening(sealed.subarray(0, 20), associatedData)).rejects.toSatisfy(isDecryption)
    expect(new Uint8Array(await opening(sealed, associatedData))).toEqual(new Uint8Array(10))
  })

  it('a CryptoKey, or a host without node:crypto, uses WebCrypto', async () => {
    const web = await createAead({ key: await deriveStoreKey(privateKey, LABEL) }, LABEL)
    expect(web.seal(new Uint8Array(1), associatedData)).toBeInstanceOf(Promise)
    const browser = await withoutNodeCrypto(() => createAead({ privateKey }, LABEL))
    expect(browser.seal(new Uint8Array(1), associatedData)).toBeInstanceOf(Promise)
    const node = await createAead({ privateKey }, LABEL)
    expect(node.seal(new Uint8Array(1), associatedData)).toBeInstanceOf(Uint8Array)
  })
})

describe('stores written by one AEAD path open with the other', () => {
  let directory: { path: string; remove(): Promise<void> }

  beforeEach(async () => {
    directory = await temporaryDirectory()
  })

  afterEach(async () => {
    await directory.remove()
  })

  it('browser (WebCrypto) -> Node (node:crypto) -> CryptoKey (WebCrypto)', async () => {
    const location = directory.path
    const first = [testEntry(), testEntry()]
    await withoutNodeCrypto(async () => {
      const store = levelStore({ location, privateKey })
      await store.open()
      await store.apply({ put: first })
      await store.close()
    })
    const second = testEntry()
    const node = levelStore({ location, privateKey })
    expect(await node.open()).toEqual(first)
    await node.apply({ put: [second] })
    await node.close()
    const web = levelStore({ location, key: await deriveStoreKey(privateKey, LABEL) })
    expect(await web.open()).toEqual([...first, second])
    await web.close()
  })
})

let suiteDirectory: { path: string; remove(): Promise<void> } | undefined
storeSuite('level (encrypted, WebCrypto CryptoKey)', {
  async setup() {
    suiteDirectory = await temporaryDirectory()
    const location = suiteDirectory.path
    const key = await deriveStoreKey(privateKey, LABEL)
    return () => levelStore({ location, key })
  },
  async teardown() {
    await suiteDirectory?.remove()
  },
  largeQueueEntries: 10_000
})

let plainDirectory: { path: string; remove(): Promise<void> } | undefined
storeSuite('level (encryption: false)', {
  async setup() {
    plainDirectory = await temporaryDirectory()
    const location = plainDirectory.path
    return () => levelStore({ location, encryption: false })
  },
  async teardown() {
    await plainDirectory?.remove()
  },
  largeQueueEntries: 10_000
})

describe('browser safety', () => {
  it('src/ imports no node: module and no Node global but the guarded process.getBuiltinModule', async () => {
    const source = fileURLToPath(new URL('../src', import.meta.url))
    for (const name of await readdir(source)) {
      const text = await readFile(join(source, name), 'utf8')
      expect(text, name).not.toMatch(/from ['"]node:|require\(|import\(['"]node:/)
      expect(text, name).not.toMatch(/\bBuffer\.\w+\(|new Buffer\(/)
    }
  })
})

import { generateKeyPairSync } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { encodePrivateKey, InvalidKeyError, parsePrivateKey } from '@dntkit/core'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { fileStore, ocDiscoveryFileStore } from '../src/index.js'
import { entry, type TemporaryDirectory, temporaryDirectory } from './fixtures.js'
import { readGoCache } from './oc-discovery-fixture.js'

let directory: TemporaryDirectory

beforeEach(async () => {
  directory = await temporaryDirectory()
})

afterEach(() => directory.remove())

it('an openssl PKCS#8 PEM key and its libp2p protobuf encoding open the same stores', async () => {
  const { privateKey } = generateKeyPairSync('ed25519')
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  const fromPem = parsePrivateKey(new TextEncoder().encode(pem))
  const protobuf = encodePrivateKey(fromPem)
  const fromProtobuf = parsePrivateKey(protobuf)
  expect(fromProtobuf).toEqual(fromPem)

  const location = join(directory.path, 'store')
  const writer = fileStore({ directory: location, privateKey: fromPem })
  await writer.open()
  await writer.apply({ put: [entry('a')] })
  await writer.close()
  const reader = fileStore({ directory: location, privateKey: fromProtobuf })
  expect(await reader.open()).toEqual([entry('a')])
  await reader.close()

  const file = join(directory.path, 'dnt_cache.bin')
  const goWriter = ocDiscoveryFileStore({ file, privateKey: fromProtobuf })
  await goWriter.open()
  await goWriter.apply({ put: [entry('b')] })
  await goWriter.close()
  // node:crypto's HKDF over the PEM key's raw bytes decrypts it: the derivation is the Go original's
  expect(JSON.parse(await readGoCache(file, fromPem))).toHaveLength(1)
  const goReader = ocDiscoveryFileStore({ file, privateKey: fromPem })
  expect(await goReader.open()).toEqual([entry('b')])
  await goReader.close()
})

it('a key that is not Ed25519 is a clear InvalidKeyError, before anything is created', async () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  expect(() => parsePrivateKey(new TextEncoder().encode(pem))).toThrow(InvalidKeyError)
  // secp256k1 in libp2p's protobuf encoding: type 2
  const secp256k1 = Uint8Array.from([0x08, 0x02, 0x12, 0x20, ...new Uint8Array(32).fill(7)])
  expect(() => parsePrivateKey(secp256k1)).toThrow(/secp256k1/)
  const location = join(directory.path, 'store')
  await expect(
    fileStore({ directory: location, privateKey: new Uint8Array(32) }).open()
  ).rejects.toSatisfy(InvalidKeyError.isInstance.bind(InvalidKeyError))
  await expect(stat(location)).rejects.toThrow(/ENOENT/)
})

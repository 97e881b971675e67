import { createCipheriv, generateKeyPairSync, hkdfSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  DecryptionError,
  ed25519FromSeed,
  encodePrivateKey,
  InvalidKeyError,
  parsePrivateKey
} from '../src/index.js'
import {
  createAead,
  deriveKeyBytes,
  deriveStoreKey,
  open,
  rawPrivateKey,
  seal
} from '../src/plugin/index.js'

const seed = Uint8Array.from({ length: 32 }, (_, index) => index + 1)
const privateKey = ed25519FromSeed(seed)

describe('key derivation and AEAD', () => {
  it('HKDF-SHA256 with empty salt and the label as info, as node:crypto computes it', async () => {
    for (const label of [
      'dntkit/store-file/v1',
      'dntkit/store-level/v1',
      'oc-discovery/dnt-cache/v1'
    ]) {
      const expected = new Uint8Array(hkdfSync('sha256', privateKey, new Uint8Array(0), label, 32))
      expect(await deriveKeyBytes(privateKey, label)).toEqual(expected)
    }
  })

  it('labels give distinct keys, none equal to the identity key', async () => {
    const file = await deriveKeyBytes(privateKey, 'dntkit/store-file/v1')
    const level = await deriveKeyBytes(privateKey, 'dntkit/store-level/v1')
    expect(file).not.toEqual(level)
    expect(file).not.toEqual(privateKey.subarray(0, 32))
  })

  it('seal gives nonce || ciphertext || tag that node:crypto AES-256-GCM agrees with', async () => {
    const keyBytes = await deriveKeyBytes(privateKey, 'test')
    const key = await deriveStoreKey(privateKey, 'test')
    const plaintext = new TextEncoder().encode('hello dntkit')
    const associated = new TextEncoder().encode('file:journal:7')
    const sealed = await seal(key, plaintext, associated)
    expect(sealed.byteLength).toBe(12 + plaintext.byteLength + 16)
    const cipher = createCipheriv('aes-256-gcm', keyBytes, sealed.subarray(0, 12))
    cipher.setAAD(associated)
    const expected = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
    expect(Buffer.from(sealed.subarray(12)).equals(expected)).toBe(true)
    expect(await open(key, sealed, associated)).toEqual(plaintext)
  })

  it('open detects a wrong key, altered bytes and wrong associated data', async () => {
    const key = await deriveStoreKey(privateKey, 'test')
    const other = await deriveStoreKey(ed25519FromSeed(new Uint8Array(32).fill(9)), 'test')
    const sealed = await seal(key, new Uint8Array([1, 2, 3]), new Uint8Array([7]))
    await expect(open(other, sealed, new Uint8Array([7]))).rejects.toThrow(DecryptionError)
    await expect(open(key, sealed, new Uint8Array([8]))).rejects.toThrow(DecryptionError)
    for (let index = 0; index < sealed.byteLength; index++) {
      const altered = sealed.slice()
      altered[index] = (altered[index] as number) ^ 1
      await expect(open(key, altered, new Uint8Array([7]))).rejects.toThrow(DecryptionError)
    }
    await expect(open(key, sealed.subarray(0, 20), new Uint8Array([7]))).rejects.toThrow(
      /too short/
    )
  })

  it('rejects key material that is not 64 bytes or not Ed25519', () => {
    expect(() => rawPrivateKey(new Uint8Array(32))).toThrow(InvalidKeyError)
    expect(() => rawPrivateKey({ type: 'secp256k1', raw: new Uint8Array(32) })).toThrow(/Ed25519/)
    expect(rawPrivateKey({ type: 'Ed25519', raw: privateKey })).toBe(privateKey)
  })
})

describe('key files', () => {
  it('reads the libp2p protobuf encoding it writes', () => {
    expect(parsePrivateKey(encodePrivateKey(privateKey))).toEqual(privateKey)
  })

  it('reads an Ed25519 PKCS#8 PEM key as node:crypto (and openssl) write it', () => {
    const { privateKey: pem, publicKey } = generateKeyPairSync('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'der' }
    })
    const raw = parsePrivateKey(new TextEncoder().encode(pem))
    expect(Buffer.from(raw.subarray(32)).equals(publicKey.subarray(-32))).toBe(true)
  })

  it('names what is wrong with other keys', () => {
    const { privateKey: ecPem } = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' }
    })
    expect(() => parsePrivateKey(new TextEncoder().encode(ecPem))).toThrow(
      /not an Ed25519 PKCS#8 key/
    )
    const secp = Uint8Array.from([0x08, 0x02, 0x12, 0x20, ...new Uint8Array(32)])
    expect(() => parsePrivateKey(secp)).toThrow(/secp256k1 key/)
    expect(() => parsePrivateKey(new TextEncoder().encode('hello world'))).toThrow(InvalidKeyError)
    const mismatched = encodePrivateKey(privateKey)
    mismatched[mismatched.length - 1] = (mismatched[mismatched.length - 1] as number) ^ 1
    expect(() => parsePrivateKey(mismatched)).toThrow(/public half does not match/)
    expect(() =>
      parsePrivateKey(
        new TextEncoder().encode('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----')
      )
    ).toThrow(/PUBLIC KEY/)
  })
})

describe('createAead', () => {
  const withoutNodeCrypto = async <T>(body: () => Promise<T>): Promise<T> => {
    const host = process as unknown as { getBuiltinModule?: unknown }
    const original = host.getBuiltinModule
    host.getBuiltinModule = undefined
    try {
      return await body()
    } finally {
      host.getBuiltinModule = original
    }
  }

  it('the node:crypto fast path and the WebCrypto path write the same format and read each other', async () => {
    const associated = new TextEncoder().encode('key:1')
    const plaintext = Uint8Array.from({ length: 1000 }, (_, index) => index & 0xff)
    const fast = await createAead({ privateKey }, 'dntkit/test/v1')
    const web = await withoutNodeCrypto(() => createAead({ privateKey }, 'dntkit/test/v1'))
    const key = await deriveStoreKey(privateKey, 'dntkit/test/v1')
    const sealedFast = await fast.seal(plaintext, associated)
    const sealedWeb = await web.seal(plaintext, associated)
    expect(await web.open(sealedFast, associated)).toEqual(plaintext)
    expect(await fast.open(sealedWeb, associated)).toEqual(plaintext)
    expect(await open(key, sealedFast, associated)).toEqual(plaintext)
    const altered = sealedFast.slice()
    altered[20] = (altered[20] as number) ^ 1
    expect(() => fast.open(altered, associated)).toThrow(DecryptionError)
    const nonces = new Set<string>()
    for (let index = 0; index < 2_000; index++) {
      nonces.add(
        Buffer.from((await fast.seal(plaintext, associated)).subarray(0, 12)).toString('hex')
      )
    }
    expect(nonces.size).toBe(2_000)
  })
})

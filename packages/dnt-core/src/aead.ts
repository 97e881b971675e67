import {
  deriveKeyBytes,
  NONCE_BYTES,
  open,
  type PrivateKeyInput,
  resolveStoreKey,
  seal,
  TAG_BYTES
} from './crypto.js'
import { DecryptionError, InvalidKeyError } from './errors.js'

/**
 * AES-256-GCM in the core's record format (nonce || ciphertext || tag, a
 * fresh random 96-bit nonce per record). Where the host offers node:crypto
 * through `process.getBuiltinModule` (Node >= 20.16) and the key bytes are
 * at hand, records are sealed with it: WebCrypto's per-call overhead in Node
 * is 3-5x the cost of the cipher for records this small. Otherwise
 * (browsers, a `CryptoKey` given as `key`) the core's WebCrypto `seal`/`open`
 * do it. Both produce and accept exactly the same bytes.
 */
export interface Aead {
  /** Synchronous with node:crypto, a promise with WebCrypto. */
  seal(plaintext: Uint8Array, associatedData: Uint8Array): Uint8Array | Promise<Uint8Array>
  /** Throws (or rejects with) `DecryptionError` when the key, the data or the associated data is wrong. */
  open(sealed: Uint8Array, associatedData: Uint8Array): Uint8Array | Promise<Uint8Array>
}

interface NodeCipher {
  setAAD(data: Uint8Array): void
  update(data: Uint8Array): Uint8Array
  final(): Uint8Array
}

/** The few node:crypto functions used, typed here so that src/ needs no Node types. */
interface NodeCrypto {
  createSecretKey(key: Uint8Array): object
  createCipheriv(
    algorithm: 'aes-256-gcm',
    key: object,
    iv: Uint8Array
  ): NodeCipher & { getAuthTag(): Uint8Array }
  createDecipheriv(
    algorithm: 'aes-256-gcm',
    key: object,
    iv: Uint8Array
  ): NodeCipher & { setAuthTag(tag: Uint8Array): void }
}

function nodeCrypto(): NodeCrypto | undefined {
  const host = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  try {
    return host?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined
  } catch {
    return undefined
  }
}

/** Random nonces drawn from a pool refilled by `getRandomValues`; never handed out twice. */
function noncePool(): () => Uint8Array {
  const pool = new Uint8Array(NONCE_BYTES * 512)
  let offset = pool.byteLength
  return () => {
    if (offset === pool.byteLength) {
      globalThis.crypto.getRandomValues(pool)
      offset = 0
    }
    const nonce = pool.subarray(offset, offset + NONCE_BYTES)
    offset += NONCE_BYTES
    return nonce
  }
}

function nodeAead(crypto: NodeCrypto, keyBytes: Uint8Array): Aead {
  const key = crypto.createSecretKey(keyBytes)
  const nextNonce = noncePool()
  return {
    seal(plaintext, associatedData) {
      const nonce = nextNonce()
      const cipher = crypto.createCipheriv('aes-256-gcm', key, nonce)
      cipher.setAAD(associatedData)
      const body = cipher.update(plaintext)
      const tail = cipher.final()
      const tag = cipher.getAuthTag()
      const out = new Uint8Array(NONCE_BYTES + body.byteLength + tail.byteLength + TAG_BYTES)
      out.set(nonce, 0)
      out.set(body, NONCE_BYTES)
      out.set(tail, NONCE_BYTES + body.byteLength)
      out.set(tag, out.byteLength - TAG_BYTES)
      return out
    },
    open(sealed, associatedData) {
      if (sealed.byteLength < NONCE_BYTES + TAG_BYTES) {
        throw new DecryptionError(`sealed record too short: ${sealed.byteLength} bytes`)
      }
      try {
        const decipher = crypto.createDecipheriv(
          'aes-256-gcm',
          key,
          sealed.subarray(0, NONCE_BYTES)
        )
        decipher.setAAD(associatedData)
        decipher.setAuthTag(sealed.subarray(sealed.byteLength - TAG_BYTES))
        const body = decipher.update(sealed.subarray(NONCE_BYTES, sealed.byteLength - TAG_BYTES))
        const tail = decipher.final()
        if (tail.byteLength === 0) {
          return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
        }
        const out = new Uint8Array(body.byteLength + tail.byteLength)
        out.set(body, 0)
        out.set(tail, body.byteLength)
        return out
      } catch (error) {
        throw new DecryptionError('authentication failed: wrong key or altered data', {
          cause: error
        })
      }
    }
  }
}

function webCryptoAead(key: CryptoKey): Aead {
  return {
    seal: (plaintext, associatedData) => seal(key, plaintext, associatedData),
    open: (sealed, associatedData) => open(key, sealed, associatedData)
  }
}

/** Where the store key comes from. */
export interface KeySource {
  privateKey?: PrivateKeyInput
  key?: CryptoKey | Uint8Array
}

/**
 * The store's AEAD for `source` (key derived with HKDF-SHA256, `info` =
 * `label`, as core `resolveStoreKey` does). A `CryptoKey` always goes through WebCrypto.
 */
export async function createAead(source: KeySource, label: string): Promise<Aead> {
  const crypto = nodeCrypto()
  const haveBytes = source.key == null || source.key instanceof Uint8Array
  if (crypto !== undefined && haveBytes) {
    const keyBytes =
      source.key instanceof Uint8Array
        ? source.key.slice()
        : await deriveKeyBytes(source.privateKey!, label)
    if (keyBytes.byteLength !== 32) throw new InvalidKeyError('an AES-256-GCM key must be 32 bytes')
    try {
      return nodeAead(crypto, keyBytes)
    } finally {
      keyBytes.fill(0)
    }
  }
  return webCryptoAead(await resolveStoreKey(source, label))
}

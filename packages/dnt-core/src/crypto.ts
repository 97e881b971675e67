import { DecryptionError, InvalidKeyError } from './errors.js'

/** Bytes of the AES-256-GCM nonce at the start of every sealed record. */
export const NONCE_BYTES = 12
/** Bytes of the GCM authentication tag at the end of every sealed record. */
export const TAG_BYTES = 16

/** Anything that carries a 64-byte Ed25519 private key: raw bytes or a libp2p `PrivateKey`. */
export type PrivateKeyInput = Uint8Array | { type: string; raw: Uint8Array }

const textEncoder = new TextEncoder()

function subtle(): SubtleCrypto {
  const value = globalThis.crypto?.subtle
  if (value == null) throw new Error('WebCrypto (globalThis.crypto.subtle) is not available')
  return value
}

/** The 64 raw bytes (seed || public key) of an Ed25519 private key. */
export function rawPrivateKey(input: PrivateKeyInput): Uint8Array {
  let raw: Uint8Array
  if (input instanceof Uint8Array) {
    raw = input
  } else if (input != null && typeof input === 'object' && input.raw instanceof Uint8Array) {
    if (input.type !== 'Ed25519') {
      throw new InvalidKeyError(`expected an Ed25519 private key, got a ${input.type} key`)
    }
    raw = input.raw
  } else {
    throw new TypeError('privateKey must be a Uint8Array or a libp2p PrivateKey')
  }
  if (raw.byteLength !== 64) {
    throw new InvalidKeyError(
      `expected the 64 raw bytes of an Ed25519 private key (seed || public key), got ${raw.byteLength} bytes`
    )
  }
  return raw
}

/**
 * HKDF-SHA256 over the 64 raw bytes of an Ed25519 private key, empty salt,
 * `info` = `label`: the 32 bytes of a store key. Different labels give
 * unrelated keys, so each store format has its own.
 */
export async function deriveKeyBytes(
  privateKey: PrivateKeyInput,
  label: string
): Promise<Uint8Array> {
  const raw = rawPrivateKey(privateKey)
  const material = await subtle().importKey('raw', raw as BufferSource, 'HKDF', false, [
    'deriveBits'
  ])
  const bits = await subtle().deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: textEncoder.encode(label) },
    material,
    256
  )
  return new Uint8Array(bits)
}

/** Imports 32 key bytes as a non-extractable AES-256-GCM key. */
export async function importAeadKey(keyBytes: Uint8Array): Promise<CryptoKey> {
  if (!(keyBytes instanceof Uint8Array) || keyBytes.byteLength !== 32) {
    throw new InvalidKeyError('an AES-256-GCM key must be 32 bytes')
  }
  return subtle().importKey('raw', keyBytes as BufferSource, 'AES-GCM', false, [
    'encrypt',
    'decrypt'
  ])
}

/** The AES-256-GCM key a store uses: derived from the identity key with `label`. */
export async function deriveStoreKey(
  privateKey: PrivateKeyInput,
  label: string
): Promise<CryptoKey> {
  const bytes = await deriveKeyBytes(privateKey, label)
  try {
    return await importAeadKey(bytes)
  } finally {
    bytes.fill(0)
  }
}

/** Accepts a store key given as a `CryptoKey`, 32 bytes, or derives it from a private key. */
export async function resolveStoreKey(
  init: { privateKey?: PrivateKeyInput; key?: CryptoKey | Uint8Array },
  label: string
): Promise<CryptoKey> {
  if (init.key != null) {
    return init.key instanceof Uint8Array ? importAeadKey(init.key) : init.key
  }
  if (init.privateKey != null) return deriveStoreKey(init.privateKey, label)
  throw new TypeError('either privateKey or key is required to encrypt the store')
}

/** AES-256-GCM with a fresh random 96-bit nonce: returns nonce || ciphertext || tag. */
export async function seal(
  key: CryptoKey,
  plaintext: Uint8Array,
  associatedData: Uint8Array = new Uint8Array(0)
): Promise<Uint8Array> {
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_BYTES))
  const sealed = await subtle().encrypt(
    { name: 'AES-GCM', iv: nonce, additionalData: associatedData as BufferSource },
    key,
    plaintext as BufferSource
  )
  const out = new Uint8Array(NONCE_BYTES + sealed.byteLength)
  out.set(nonce, 0)
  out.set(new Uint8Array(sealed), NONCE_BYTES)
  return out
}

/** Reverses `seal`; throws `DecryptionError` when the key or any byte is wrong. */
export async function open(
  key: CryptoKey,
  sealed: Uint8Array,
  associatedData: Uint8Array = new Uint8Array(0)
): Promise<Uint8Array> {
  if (sealed.byteLength < NONCE_BYTES + TAG_BYTES) {
    throw new DecryptionError(`sealed record too short: ${sealed.byteLength} bytes`)
  }
  try {
    const plaintext = await subtle().decrypt(
      {
        name: 'AES-GCM',
        iv: sealed.subarray(0, NONCE_BYTES) as BufferSource,
        additionalData: associatedData as BufferSource
      },
      key,
      sealed.subarray(NONCE_BYTES) as BufferSource
    )
    return new Uint8Array(plaintext)
  } catch (error) {
    throw new DecryptionError('authentication failed: wrong key or altered data', { cause: error })
  }
}

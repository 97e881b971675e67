import { ed25519 } from '@noble/curves/ed25519.js'
import { ByteReader, ByteWriter } from './bytes.js'
import { InvalidKeyError } from './errors.js'

// PKCS#8 PrivateKeyInfo of an Ed25519 key (RFC 8410): this DER prefix, then the 32-byte seed.
const PKCS8_ED25519_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20
])
// libp2p's KeyType enum in its protobuf key encoding
const KEY_TYPES: Record<number, string> = { 0: 'RSA', 1: 'Ed25519', 2: 'secp256k1', 3: 'ECDSA' }
const ED25519 = 1

/** The 64 raw bytes (seed || public key) of the Ed25519 key with this 32-byte seed. */
export function ed25519FromSeed(seed: Uint8Array): Uint8Array {
  if (seed.byteLength !== 32)
    throw new InvalidKeyError(`an Ed25519 seed is 32 bytes, got ${seed.byteLength}`)
  const raw = new Uint8Array(64)
  raw.set(seed, 0)
  raw.set(ed25519.getPublicKey(seed), 32)
  return raw
}

/**
 * Reads a key file's bytes: a libp2p protobuf-encoded private key (what
 * `dnt keygen` writes) or a PKCS#8 PEM Ed25519 key (`openssl genpkey
 * -algorithm ed25519`). Returns the 64 raw bytes; any other key type or
 * encoding throws `InvalidKeyError` saying what was found.
 */
export function parsePrivateKey(bytes: Uint8Array): Uint8Array {
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart()
  if (head.startsWith('-----BEGIN')) return parsePem(new TextDecoder().decode(bytes))
  return parseProtobuf(bytes)
}

function parsePem(text: string): Uint8Array {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(text)
  if (match == null) throw new InvalidKeyError('PEM key has no matching BEGIN/END lines')
  const label = match[1] as string
  if (label !== 'PRIVATE KEY') {
    throw new InvalidKeyError(
      `PEM block is "${label}", expected an unencrypted PKCS#8 "PRIVATE KEY"`
    )
  }
  let der: Uint8Array
  try {
    der = Uint8Array.from(atob((match[2] as string).replace(/\s+/g, '')), (char) =>
      char.charCodeAt(0)
    )
  } catch {
    throw new InvalidKeyError('PEM key body is not valid base64')
  }
  const prefixMatches =
    der.byteLength === PKCS8_ED25519_PREFIX.byteLength + 32 &&
    PKCS8_ED25519_PREFIX.every((byte, index) => der[index] === byte)
  if (!prefixMatches) {
    throw new InvalidKeyError(
      'PEM key is not an Ed25519 PKCS#8 key (only Ed25519 identity keys are supported)'
    )
  }
  return ed25519FromSeed(der.subarray(PKCS8_ED25519_PREFIX.byteLength))
}

// protobuf wire: field 1 (KeyType) a varint, field 2 (Data) length-delimited
const TYPE_TAG = (1 << 3) | 0
const DATA_TAG = (2 << 3) | 2
const NOT_A_KEY = 'key file is neither PEM nor a libp2p protobuf private key'

function parseProtobuf(bytes: Uint8Array): Uint8Array {
  let type: number | undefined
  let data: Uint8Array | undefined
  // ByteReader reads varints with uint8-varint, as every other format of dntkit
  const reader = new ByteReader(bytes)
  const varint = (): number => {
    try {
      return reader.varint()
    } catch {
      throw new InvalidKeyError(NOT_A_KEY)
    }
  }
  while (reader.remaining > 0) {
    const tag = varint()
    if (tag === TYPE_TAG) type = varint()
    else if (tag === DATA_TAG) {
      try {
        data = reader.bytes()
      } catch {
        throw new InvalidKeyError('libp2p protobuf private key is truncated')
      }
    } else throw new InvalidKeyError(NOT_A_KEY)
  }
  if (type === undefined || data === undefined) throw new InvalidKeyError(NOT_A_KEY)
  if (type !== ED25519) {
    throw new InvalidKeyError(
      `key file holds a ${KEY_TYPES[type] ?? `type ${type}`} key; only Ed25519 identity keys are supported`
    )
  }
  // libp2p writes seed || public key (64 bytes); very old keys repeat the public key (96)
  if (data.byteLength !== 64 && data.byteLength !== 96) {
    throw new InvalidKeyError(`Ed25519 key data is ${data.byteLength} bytes, expected 64`)
  }
  const raw = ed25519FromSeed(data.subarray(0, 32))
  if (!raw.subarray(32).every((byte, index) => byte === data[32 + index])) {
    throw new InvalidKeyError(
      'Ed25519 key data is inconsistent: its public half does not match its seed'
    )
  }
  return raw
}

/** libp2p's protobuf encoding of an Ed25519 private key (the file format of `dnt keygen`). */
export function encodePrivateKey(raw: Uint8Array): Uint8Array {
  if (raw.byteLength !== 64)
    throw new InvalidKeyError(`expected 64 raw key bytes, got ${raw.byteLength}`)
  return new ByteWriter(4 + 64)
    .varint(TYPE_TAG)
    .varint(ED25519)
    .varint(DATA_TAG)
    .bytes(raw)
    .finish()
}

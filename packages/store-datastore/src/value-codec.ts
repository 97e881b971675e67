import { type Aead, concatBytes, utf8 } from '@dntkit/core/plugin'
import type { Key } from 'interface-datastore'
import { KEY_LABEL } from './constants.js'

/** Turns an encoded entry into the value stored under `key`, and back. */
export interface ValueCodec {
  encode(key: Key, plaintext: Uint8Array): Uint8Array | Promise<Uint8Array>
  /** Throws (or rejects with) `DecryptionError` when the value was altered, moved from another key, or sealed with another key. */
  decode(key: Key, value: Uint8Array): Uint8Array | Promise<Uint8Array>
}

/**
 * Values sealed with AES-256-GCM (nonce || ciphertext || tag). Associated
 * data = `dntkit/store-datastore/v1` || 0x00 || store id || the UTF-8 bytes
 * of the datastore key, so a value opens only under its key, in its store,
 * in its format.
 */
export function sealedValues(aead: Aead, storeId: Uint8Array): ValueCodec {
  const head = concatBytes([utf8(KEY_LABEL), Uint8Array.of(0), storeId])
  const associatedData = (key: Key): Uint8Array => concatBytes([head, utf8(key.toString())])
  return {
    encode: (key, plaintext) => aead.seal(plaintext, associatedData(key)),
    decode: (key, value) => aead.open(value, associatedData(key))
  }
}

/** Values stored as they are (`encryption: false`). */
export function plaintextValues(): ValueCodec {
  return {
    encode: (_key, plaintext) => plaintext,
    // a plain view: decoders copy out of it, and a Buffer's slice() would not copy
    decode: (_key, value) => new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  }
}

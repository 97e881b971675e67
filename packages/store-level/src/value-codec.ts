import type { Aead } from '@dntkit/core/plugin'
import { concatBytes, utf8 } from '@dntkit/core/plugin'
import { KEY_LABEL } from './constants.js'

/** Turns an encoded entry into the value stored under `key`, and back. */
export interface ValueCodec {
  readonly encrypted: boolean
  encode(key: Uint8Array, plaintext: Uint8Array): Uint8Array | Promise<Uint8Array>
  /**
   * Throws (or rejects with) `DecryptionError` when the value was altered,
   * moved from another key, or sealed with another key.
   */
  decode(key: Uint8Array, value: Uint8Array): Uint8Array | Promise<Uint8Array>
}

/**
 * Values sealed with AES-256-GCM (the core's record format: nonce || ciphertext || tag).
 * Associated data = `dntkit/store-level/v1` || 0x00 || store id || key, so a
 * value only opens under the key, in the store and in the format it was written for.
 */
export function sealedValues(aead: Aead, storeId: Uint8Array): ValueCodec {
  const head = concatBytes([utf8(KEY_LABEL), Uint8Array.of(0), storeId])
  const associatedData = (key: Uint8Array): Uint8Array => {
    const out = new Uint8Array(head.byteLength + key.byteLength)
    out.set(head, 0)
    out.set(key, head.byteLength)
    return out
  }
  return {
    encrypted: true,
    encode: (key, plaintext) => aead.seal(plaintext, associatedData(key)),
    decode: (key, value) => aead.open(value, associatedData(key))
  }
}

/** Values stored as they are (`encryption: false`). */
export function plaintextValues(): ValueCodec {
  return {
    encrypted: false,
    encode: (_key, plaintext) => plaintext,
    // a plain view: decoders copy out of it, and Buffer's slice() would not copy
    decode: (_key, value) => new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  }
}

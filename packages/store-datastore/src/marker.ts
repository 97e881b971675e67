import { DecryptionError, StoreCorruptError, StoreKeyMismatchError } from '@dntkit/core'
import { type Aead, concatBytes, NONCE_BYTES, TAG_BYTES, utf8 } from '@dntkit/core/plugin'
import {
  FORMAT_VERSION,
  KEY_LABEL,
  MODE_AES_256_GCM,
  MODE_PLAINTEXT,
  STORE_ID_BYTES
} from './constants.js'

/**
 * The marker record (`<prefix>/meta`), written on the first open for writing:
 *
 * ```
 * u8 format version (1) | u8 mode (0 plaintext, 1 AES-256-GCM) | body
 * mode 0: body = store id (16 bytes)
 * mode 1: body = seal(store key, store id, AD = "dntkit/store-datastore/v1" 0x00 "meta" version mode)
 * ```
 *
 * Opening it proves the key before any entry is read.
 */
function associatedData(mode: number): Uint8Array {
  return concatBytes([
    utf8(KEY_LABEL),
    Uint8Array.of(0),
    utf8('meta'),
    Uint8Array.of(FORMAT_VERSION, mode)
  ])
}

/** A new marker and the random store id it holds. */
export async function createMarker(
  aead: Aead | undefined
): Promise<{ value: Uint8Array; storeId: Uint8Array }> {
  const storeId = globalThis.crypto.getRandomValues(new Uint8Array(STORE_ID_BYTES))
  const mode = aead === undefined ? MODE_PLAINTEXT : MODE_AES_256_GCM
  const body = aead === undefined ? storeId : await aead.seal(storeId, associatedData(mode))
  return { value: concatBytes([Uint8Array.of(FORMAT_VERSION, mode), body]), storeId }
}

/**
 * Checks a marker against the key the store was opened with; returns the
 * store id. `mismatch`: the message for a marker that does not authenticate.
 */
export async function readMarker(
  value: Uint8Array,
  aead: Aead | undefined,
  where: string,
  mismatch: string
): Promise<Uint8Array> {
  const version = value[0]
  const mode = value[1]
  if (version !== FORMAT_VERSION) {
    throw new StoreCorruptError(
      `${where}: the marker record has format version ${version ?? 'none'}, this version of @dntkit/store-datastore reads ${FORMAT_VERSION}`,
      { file: where, key: 'meta' }
    )
  }
  const expected =
    mode === MODE_PLAINTEXT ? 2 + STORE_ID_BYTES : 2 + NONCE_BYTES + STORE_ID_BYTES + TAG_BYTES
  if (mode !== MODE_PLAINTEXT && mode !== MODE_AES_256_GCM) {
    throw new StoreCorruptError(`${where}: the marker record has unknown mode ${mode ?? 'none'}`, {
      file: where,
      key: 'meta'
    })
  }
  if (value.byteLength !== expected) {
    throw new StoreCorruptError(
      `${where}: the marker record has ${value.byteLength} bytes, expected ${expected}`,
      { file: where, key: 'meta' }
    )
  }
  if (mode === MODE_PLAINTEXT) {
    if (aead !== undefined) {
      throw new StoreKeyMismatchError(
        `${where} was written without encryption (encryption: false); open it with encryption: false, not with a key`
      )
    }
    return value.slice(2)
  }
  if (aead === undefined) {
    throw new StoreKeyMismatchError(
      `${where} is encrypted but was opened with encryption: false; open it with the key that wrote it`
    )
  }
  try {
    return (await aead.open(value.subarray(2), associatedData(mode))).slice()
  } catch (error) {
    if (!DecryptionError.isInstance(error)) throw error
    throw new StoreKeyMismatchError(mismatch, { cause: error })
  }
}

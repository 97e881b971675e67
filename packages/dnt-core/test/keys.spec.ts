import * as actual from 'uint8-varint'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  ed25519FromSeed,
  encodePrivateKey,
  InvalidKeyError,
  parsePrivateKey
} from '../src/index.js'

// the real uint8-varint, watched: key files read and write their varints with it, as every format of dntkit
vi.mock('uint8-varint', async (importOriginal) => {
  const real = await importOriginal<typeof actual>()
  return { ...real, decode: vi.fn(real.decode), encode: vi.fn(real.encode) }
})

afterEach(() => {
  vi.mocked(actual.decode).mockClear()
  vi.mocked(actual.encode).mockClear()
})

const raw = ed25519FromSeed(new Uint8Array(32).fill(7))

describe('libp2p protobuf key files (varints by uint8-varint)', () => {
  it('writes the bytes libp2p writes (KeyType = Ed25519, Data = 64 bytes), with uint8-varint', () => {
    const encoded = encodePrivateKey(raw)
    expect(Array.from(encoded.subarray(0, 4))).toEqual([0x08, 0x01, 0x12, 0x40])
    expect(encoded.subarray(4)).toEqual(raw)
    expect(encoded.byteLength).toBe(68)
    expect(vi.mocked(actual.encode)).toHaveBeenCalled()
  })

  it('reads it back, fields in either order and with a 96-byte legacy Data, with uint8-varint', () => {
    expect(parsePrivateKey(encodePrivateKey(raw))).toEqual(raw)
    expect(vi.mocked(actual.decode)).toHaveBeenCalled()
    const reversed = Uint8Array.from([0x12, 0x40, ...raw, 0x08, 0x01])
    expect(parsePrivateKey(reversed)).toEqual(raw)
    const legacy = Uint8Array.from([0x08, 0x01, 0x12, 0x60, ...raw, ...raw.subarray(32)])
    expect(parsePrivateKey(legacy)).toEqual(raw)
  })

  it('refuses truncated and malformed encodings with InvalidKeyError saying what is wrong', () => {
    const encoded = encodePrivateKey(raw)
    expect(() => parsePrivateKey(encoded.subarray(0, 40))).toThrow(
      new InvalidKeyError('libp2p protobuf private key is truncated')
    )
    const notAKey = new InvalidKeyError('key file is neither PEM nor a libp2p protobuf private key')
    // a type varint that never ends, an unknown field, no Data field
    expect(() => parsePrivateKey(Uint8Array.from([0x08, 0x81]))).toThrow(notAKey)
    expect(() => parsePrivateKey(Uint8Array.from([0x18, 0x01]))).toThrow(notAKey)
    expect(() => parsePrivateKey(Uint8Array.from([0x08, 0x01]))).toThrow(notAKey)
    expect(() => parsePrivateKey(Uint8Array.from([0x08, 0x00, 0x12, 0x01, 0x00]))).toThrow(
      new InvalidKeyError('key file holds a RSA key; only Ed25519 identity keys are supported')
    )
  })
})

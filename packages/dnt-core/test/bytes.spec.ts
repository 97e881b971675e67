import { describe, expect, it } from 'vitest'
import { ByteReader, ByteWriter } from '../src/bytes.js'

/** Unsigned LEB128, written out by hand: the bytes every stored entry and frame already holds. */
function leb128(value: number): number[] {
  const out: number[] = []
  do {
    let byte = value % 128
    value = Math.floor(value / 128)
    if (value > 0) byte |= 0x80
    out.push(byte)
  } while (value > 0)
  return out
}

describe('ByteWriter / ByteReader varints (uint8-varint, bytes unchanged)', () => {
  const values = [
    0,
    1,
    127,
    128,
    300,
    16_383,
    16_384,
    2 ** 21 - 1,
    2 ** 21,
    2 ** 28,
    2 ** 35 + 7,
    2 ** 42,
    2 ** 49,
    Number.MAX_SAFE_INTEGER
  ]

  it('writes every length from 1 to 8 bytes exactly as LEB128, and reads it back', () => {
    for (const value of values) {
      const bytes = new ByteWriter(1).varint(value).finish()
      expect(Array.from(bytes), String(value)).toEqual(leb128(value))
      const reader = new ByteReader(bytes)
      expect(reader.varint()).toBe(value)
      expect(reader.remaining).toBe(0)
    }
  })

  it('length-prefixes strings the same way around the one/two-byte boundary and past it', () => {
    for (const length of [0, 1, 126, 127, 128, 129, 2_000, 4_999, 5_001]) {
      const text = 'é'.repeat(Math.floor(length / 2)) + 'a'.repeat(length % 2)
      const encoded = new TextEncoder().encode(text)
      const bytes = new ByteWriter(4).string(text).finish()
      expect(Array.from(bytes.subarray(0, bytes.byteLength - encoded.byteLength))).toEqual(
        leb128(encoded.byteLength)
      )
      expect(new ByteReader(bytes).string()).toBe(text)
    }
  })

  it('refuses negative, fractional and unsafe values, and truncated, over-long or unsafe input', () => {
    for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN]) {
      expect(() => new ByteWriter().varint(bad)).toThrow(RangeError)
    }
    expect(() => new ByteReader(Uint8Array.of(0x80, 0x80)).varint()).toThrow(/needs 3 bytes/)
    expect(() => new ByteReader(new Uint8Array(9).fill(0x80)).varint()).toThrow(/malformed varint/)
    expect(() =>
      new ByteReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)).varint()
    ).toThrow(/not a safe integer/)
  })
})

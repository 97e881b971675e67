import { decode, encodeUint8Array, encodingLength } from 'uint8-varint'
import type { Uint8ArrayList } from 'uint8arraylist'
import { FrameError } from './frame-error.js'

/** Longest varint of the wire format (covers every safe integer). */
export const MAX_VARINT_BYTES = 8

/** A varint read from a buffer: its value and how many bytes it took. */
export interface Varint {
  value: number
  bytes: number
}

/**
 * The unsigned varint (multiformats' unsigned-varint, LEB128) at `offset`,
 * decoded by `uint8-varint`; undefined while its last byte has not arrived.
 * Throws `FrameError` (kind `malformed`) when 8 bytes hold no last byte.
 */
export function readVarint(
  bytes: Uint8Array | Uint8ArrayList,
  offset: number,
  what: string
): Varint | undefined {
  const available = Math.min(bytes.byteLength - offset, MAX_VARINT_BYTES)
  for (let index = 0; index < available; index++) {
    const byte = bytes instanceof Uint8Array ? bytes[offset + index] : bytes.get(offset + index)
    if ((byte as number) < 0x80) return { value: decode(bytes, offset), bytes: index + 1 }
  }
  if (available === MAX_VARINT_BYTES) throw new FrameError(`malformed varint in the ${what}`)
  return undefined
}

/** `value` as a varint, written into `target` at `offset`; returns the offset after it. */
export function writeVarint(target: Uint8Array, offset: number, value: number): number {
  encodeUint8Array(value, target, offset)
  return offset + encodingLength(value)
}

export { encodingLength as varintLength }

import * as varint from 'uint8-varint'

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder('utf-8', { fatal: true })

/** A growable byte buffer with unsigned varints, float64 and length-prefixed fields. */
export class ByteWriter {
  private buffer: Uint8Array
  private view: DataView
  /** Bytes written so far. */
  length = 0

  constructor(initialSize = 256) {
    this.buffer = new Uint8Array(initialSize)
    this.view = new DataView(this.buffer.buffer)
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.byteLength) return
    let size = this.buffer.byteLength * 2
    while (size < this.length + bytes) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buffer.subarray(0, this.length))
    this.buffer = next
    this.view = new DataView(next.buffer)
  }

  /** Appends one byte. */
  uint8(value: number): this {
    this.reserve(1)
    this.buffer[this.length++] = value
    return this
  }

  /** An unsigned LEB128 varint (`uint8-varint`, as libp2p writes them). */
  varint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new RangeError(`varint out of range: ${value}`)
    const size = varint.encodingLength(value)
    this.reserve(size)
    varint.encode(value, this.buffer, this.length)
    this.length += size
    return this
  }

  /** Appends a big-endian IEEE 754 double. */
  float64(value: number): this {
    this.reserve(8)
    this.view.setFloat64(this.length, value)
    this.length += 8
    return this
  }

  /** Appends `value` prefixed with its length as a varint. */
  bytes(value: Uint8Array): this {
    this.varint(value.byteLength)
    this.reserve(value.byteLength)
    this.buffer.set(value, this.length)
    this.length += value.byteLength
    return this
  }

  /** Appends `value` as UTF-8, prefixed with its byte length as a varint. */
  string(value: string): this {
    if (value.length > 5_000) return this.bytes(textEncoder.encode(value))
    // at most 3 bytes per UTF-16 unit, so the length fits a 2-byte varint:
    // encode in place after a 2-byte gap, then close the gap if 1 byte suffices
    this.reserve(2 + value.length * 3)
    const start = this.length
    const { written } = textEncoder.encodeInto(value, this.buffer.subarray(start + 2))
    const size = varint.encodingLength(written)
    if (size === 1) this.buffer.copyWithin(start + 1, start + 2, start + 2 + written)
    varint.encode(written, this.buffer, start)
    this.length = start + size + written
    return this
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    return this.buffer.slice(0, this.length)
  }
}

/** Reads what `ByteWriter` wrote; throws `RangeError` on truncated or malformed input. */
export class ByteReader {
  private readonly view: DataView
  /** Position of the next byte to read. */
  offset = 0

  constructor(private readonly input: Uint8Array) {
    this.view = new DataView(input.buffer, input.byteOffset, input.byteLength)
  }

  /** Bytes left after `offset`. */
  get remaining(): number {
    return this.input.byteLength - this.offset
  }

  private need(count: number): void {
    if (count > this.remaining) {
      throw new RangeError(`needs ${count} bytes at offset ${this.offset}, ${this.remaining} left`)
    }
  }

  /** Reads one byte. */
  uint8(): number {
    this.need(1)
    return this.input[this.offset++] as number
  }

  /** An unsigned LEB128 varint of at most 8 bytes and a safe integer. */
  varint(): number {
    // uint8-varint decodes; the bounds and the safe-integer rule are checked here
    const end = Math.min(this.input.byteLength, this.offset + 8)
    let last = this.offset
    while (last < end && (this.input[last] as number) >= 0x80) last++
    if (last === end) {
      if (end === this.input.byteLength && end - this.offset < 8) this.need(end - this.offset + 1)
      throw new RangeError(`malformed varint at offset ${this.offset}`)
    }
    const value = varint.decode(this.input, this.offset)
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(`malformed varint at offset ${this.offset}: not a safe integer`)
    }
    this.offset = last + 1
    return value
  }

  /** Reads a big-endian IEEE 754 double. */
  float64(): number {
    this.need(8)
    const value = this.view.getFloat64(this.offset)
    this.offset += 8
    return value
  }

  /** A view into the input (no copy). */
  bytes(): Uint8Array {
    const length = this.varint()
    this.need(length)
    const value = this.input.subarray(this.offset, this.offset + length)
    this.offset += length
    return value
  }

  /** Reads a length-prefixed UTF-8 string; `RangeError` on invalid UTF-8. */
  string(): string {
    try {
      return textDecoder.decode(this.bytes())
    } catch (error) {
      if (error instanceof RangeError) throw error
      throw new RangeError(`invalid UTF-8 before offset ${this.offset}`)
    }
  }
}

/** The UTF-8 bytes of `value`. */
export function utf8(value: string): Uint8Array {
  return textEncoder.encode(value)
}

/** One new array holding `parts` one after the other. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const part of parts) length += part.byteLength
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.byteLength
  }
  return out
}

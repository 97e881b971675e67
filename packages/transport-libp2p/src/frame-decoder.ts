import { Uint8ArrayList } from 'uint8arraylist'
import { FrameError } from './envelope-codec.js'

/** Longest varint length prefix (covers every safe integer). */
const MAX_PREFIX_BYTES = 8

/**
 * Splits a byte stream into varint-length-prefixed frame bodies. A frame
 * whose length prefix exceeds `maxBodyBytes` throws `FrameError` (kind
 * `too-large`) as soon as the prefix is read, before any of its body is
 * buffered; a prefix that is not a varint throws kind `malformed`.
 */
export class FrameDecoder {
  private readonly buffer = new Uint8ArrayList()

  constructor(private readonly maxBodyBytes: number) {}

  /** Bytes received but not yet returned as a frame. */
  get buffered(): number {
    return this.buffer.byteLength
  }

  /** Adds received bytes; returns every frame body they complete (views, never reused). */
  push(chunk: Uint8Array | Uint8ArrayList): Uint8Array[] {
    this.buffer.append(chunk)
    const bodies: Uint8Array[] = []
    for (;;) {
      const prefix = this.readPrefix()
      if (prefix == null) break
      const { length, prefixBytes } = prefix
      if (this.buffer.byteLength < prefixBytes + length) break
      bodies.push(this.buffer.subarray(prefixBytes, prefixBytes + length))
      this.buffer.consume(prefixBytes + length)
    }
    return bodies
  }

  /** The next frame's length, or undefined while its prefix is incomplete. */
  private readPrefix(): { length: number; prefixBytes: number } | undefined {
    let length = 0
    let scale = 1
    const available = Math.min(this.buffer.byteLength, MAX_PREFIX_BYTES)
    for (let index = 0; index < available; index++) {
      const byte = this.buffer.get(index)
      length += (byte & 0x7f) * scale
      if ((byte & 0x80) === 0) {
        if (length > this.maxBodyBytes) {
          throw new FrameError(
            `frame of ${length} bytes exceeds the limit of ${this.maxBodyBytes}`,
            'too-large'
          )
        }
        return { length, prefixBytes: index + 1 }
      }
      scale *= 0x80
    }
    if (this.buffer.byteLength >= MAX_PREFIX_BYTES)
      throw new FrameError('malformed frame length prefix')
    return undefined
  }
}

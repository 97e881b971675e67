import { Uint8ArrayList } from 'uint8arraylist'
import { FrameError } from './frame-error.js'
import { readVarint } from './varint.js'

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
    const prefix = readVarint(this.buffer, 0, 'frame length prefix')
    if (prefix === undefined) return undefined
    if (prefix.value > this.maxBodyBytes) {
      throw new FrameError(
        `frame of ${prefix.value} bytes exceeds the limit of ${this.maxBodyBytes}`,
        'too-large'
      )
    }
    return { length: prefix.value, prefixBytes: prefix.bytes }
  }
}

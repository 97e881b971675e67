import { Uint8ArrayList } from 'uint8arraylist'
import { FrameError } from './frame-error.js'
import { type MessageHeader, parseMessageHeader } from './message-header.js'
import { readVarint } from './varint.js'

/** The size limits of a `MessageFrameReader`. */
export interface ReaderLimits {
  /** Largest payload; a larger one is refused from its header and skipped. */
  maxMessageBytes: number
  /** Largest header (type, sequence, id, protocol, meta). */
  maxHeaderBytes: number
  /** Longest message id, in UTF-8 bytes. */
  maxIdBytes: number
}

/** What the reader found next in the byte stream. */
export type ReaderEvent =
  /** A header within the limits; call `accept()` (its `message` follows) or `skip()`. */
  | { kind: 'header'; header: MessageHeader; payloadBytes: number }
  /** The payload of an accepted header arrived in full. */
  | { kind: 'message'; header: MessageHeader; payload: Uint8Array; frameBytes: number }
  /** A frame refused from its header (`too-large`, `id-too-long`); its body is being skipped. */
  | {
      kind: 'refused'
      sequence: number
      code: 'too-large' | 'id-too-long'
      reason: string
      frameBytes: number
    }
  /** The body of a refused or skipped frame ended (nothing of it was kept). */
  | { kind: 'skipped'; frameBytes: number }

type State = 'prefix' | 'header' | 'decide' | 'payload' | 'skip'

/**
 * Reads message frames from an envelope stream, header first. A length
 * prefix over `maxMessageBytes + maxHeaderBytes` throws `FrameError` (kind
 * `too-large`) as soon as the prefix is read; a header is returned as soon as
 * its bytes arrived, before the payload, so the caller decides from it whether
 * the payload is worth reading; a refused or skipped payload is discarded as
 * it arrives and never buffered. Anything that breaks the format throws
 * `FrameError` (kind `malformed`); nothing else is ever thrown.
 *
 * Memory: besides the chunk being processed, the reader holds at most one
 * frame (`maxMessageBytes + maxHeaderBytes`), and only of an accepted header;
 * `abandon()` gives that one up (a receiver over its memory budget).
 */
export class MessageFrameReader {
  private readonly buffer = new Uint8ArrayList()
  private readonly maxFrameBytes: number
  private state: State = 'prefix'
  /** Length of the current frame's body. */
  private bodyBytes = 0
  /** Body bytes the header parser needs before it is worth trying again. */
  private needed = 1
  private header: MessageHeader | undefined
  private skipRemaining = 0

  constructor(private readonly limits: ReaderLimits) {
    this.maxFrameBytes = limits.maxMessageBytes + limits.maxHeaderBytes
  }

  /** Bytes received and held (not yet returned, not skipped). */
  get buffered(): number {
    return this.buffer.byteLength
  }

  /** Adds received bytes; call `next()` until it returns undefined. */
  push(chunk: Uint8Array | Uint8ArrayList): void {
    this.buffer.append(chunk)
  }

  /** The next event the received bytes complete, or undefined until more arrive. */
  next(): ReaderEvent | undefined {
    for (;;) {
      switch (this.state) {
        case 'prefix': {
          const prefix = this.readPrefix()
          if (prefix === undefined) return undefined
          this.buffer.consume(prefix.prefixBytes)
          this.bodyBytes = prefix.length
          this.needed = 1
          this.state = 'header'
          continue
        }
        case 'header':
          return this.readHeader()
        case 'decide':
          throw new Error('accept() or skip() the header before reading on')
        case 'payload': {
          if (this.buffer.byteLength < this.bodyBytes) return undefined
          const header = this.header as MessageHeader
          // a copy: chunks may be views of network buffers that are reused
          const payload = this.buffer.slice(header.headerBytes, this.bodyBytes)
          this.buffer.consume(this.bodyBytes)
          this.state = 'prefix'
          this.header = undefined
          return { kind: 'message', header, payload, frameBytes: this.bodyBytes }
        }
        case 'skip': {
          const discard = Math.min(this.buffer.byteLength, this.skipRemaining)
          this.buffer.consume(discard)
          this.skipRemaining -= discard
          if (this.skipRemaining > 0) return undefined
          this.state = 'prefix'
          return { kind: 'skipped', frameBytes: this.bodyBytes }
        }
      }
    }
  }

  /** Reads the payload of the header just returned. */
  accept(): void {
    if (this.state !== 'decide') throw new Error('no header waits for a decision')
    this.state = 'payload'
  }

  /** Discards the payload of the header just returned, as it arrives. */
  skip(): void {
    if (this.state !== 'decide') throw new Error('no header waits for a decision')
    this.header = undefined
    this.startSkip()
  }

  /** The accepted header whose payload is being read now, if any. */
  get reading(): MessageHeader | undefined {
    return this.state === 'payload' ? this.header : undefined
  }

  /**
   * Gives up the payload being read: what arrived of it is dropped at the
   * next `next()` (which returns `skipped` once the frame has passed), the
   * rest discarded as it arrives.
   */
  abandon(): void {
    if (this.state !== 'payload') throw new Error('no payload is being read')
    this.header = undefined
    this.startSkip()
  }

  private startSkip(): void {
    this.skipRemaining = this.bodyBytes
    this.state = 'skip'
  }

  private readHeader(): ReaderEvent | undefined {
    const available = Math.min(this.buffer.byteLength, this.bodyBytes, this.limits.maxHeaderBytes)
    // (an empty body is parsed at once: it is malformed)
    if (available < this.needed && available < this.bodyBytes) return undefined
    const result = parseMessageHeader(
      this.buffer.subarray(0, available),
      this.bodyBytes,
      this.limits
    )
    if (result.status === 'incomplete') {
      this.needed = result.needed
      return undefined
    }
    if (result.status === 'refused') {
      this.startSkip()
      const { sequence, code, reason } = result
      return { kind: 'refused', sequence, code, reason, frameBytes: this.bodyBytes }
    }
    const payloadBytes = this.bodyBytes - result.header.headerBytes
    if (payloadBytes > this.limits.maxMessageBytes) {
      this.startSkip()
      return {
        kind: 'refused',
        sequence: result.header.sequence,
        code: 'too-large',
        reason: `payload of ${payloadBytes} bytes exceeds ${this.limits.maxMessageBytes}`,
        frameBytes: this.bodyBytes
      }
    }
    this.header = result.header
    this.state = 'decide'
    return { kind: 'header', header: result.header, payloadBytes }
  }

  /** The next frame's length, or undefined while its prefix is incomplete. */
  private readPrefix(): { length: number; prefixBytes: number } | undefined {
    const prefix = readVarint(this.buffer, 0, 'frame length prefix')
    if (prefix === undefined) return undefined
    if (prefix.value > this.maxFrameBytes) {
      throw new FrameError(
        `frame of ${prefix.value} bytes exceeds the limit of ${this.maxFrameBytes}`,
        'too-large'
      )
    }
    return { length: prefix.value, prefixBytes: prefix.bytes }
  }
}

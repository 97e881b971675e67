import type { Meta } from '@dntkit/core'
import { FrameError } from './frame-error.js'
import { readVarint } from './varint.js'

/** First byte of a message frame body. */
export const MESSAGE_FRAME = 0x01

/** The fields of a message frame before its payload. */
export interface MessageHeader {
  /** 0 for the first frame of a stream, then +1 per frame. */
  sequence: number
  id: string
  /** The inner protocol: which handler of the receiver gets the payload. */
  protocol: string
  meta?: Meta
  /** Bytes of the header within the frame body; the payload is the rest. */
  headerBytes: number
}

/** The size limits a receiver checks on a header. */
export interface HeaderLimits {
  maxHeaderBytes: number
  maxIdBytes: number
}

/**
 * What `parseMessageHeader` found: the header, how many body bytes it needs
 * before it can tell, or a refusal from a size limit (the frame is well
 * formed so far, and its sequence number is known).
 */
export type HeaderResult =
  | { status: 'complete'; header: MessageHeader }
  | { status: 'incomplete'; needed: number }
  | { status: 'refused'; sequence: number; code: 'too-large' | 'id-too-long'; reason: string }

const textDecoder = new TextDecoder('utf-8', { fatal: true })

/** Thrown inside the parser when more bytes are needed; never escapes it. */
class Incomplete {
  constructor(readonly needed: number) {}
}

/** Thrown inside the parser when a size limit is exceeded; never escapes it. */
class Refused {
  constructor(
    readonly code: 'too-large' | 'id-too-long',
    readonly reason: string
  ) {}
}

/** Reads header fields from the first bytes of a body, checking every end offset against the limits. */
class HeaderCursor {
  offset = 0

  constructor(
    private readonly bytes: Uint8Array,
    private readonly bodyBytes: number,
    private readonly maxHeaderBytes: number
  ) {}

  /** Checks that `end` is inside the body and the header limit, and already received. */
  reach(end: number, what: string): void {
    if (end > this.bodyBytes) {
      throw new FrameError(
        `message frame ends inside its ${what} (body of ${this.bodyBytes} bytes)`
      )
    }
    if (end > this.maxHeaderBytes) {
      throw new Refused(
        'too-large',
        `header of at least ${end} bytes exceeds ${this.maxHeaderBytes}`
      )
    }
    if (end > this.bytes.byteLength) throw new Incomplete(end)
  }

  uint8(what: string): number {
    this.reach(this.offset + 1, what)
    return this.bytes[this.offset++] as number
  }

  varint(what: string): number {
    // what may be read: the bytes received, within the body and the header limit
    const limit = Math.min(this.bytes.byteLength, this.bodyBytes, this.maxHeaderBytes)
    const varint = readVarint(this.bytes.subarray(0, limit), this.offset, `message frame's ${what}`)
    if (varint === undefined) {
      // the next byte is past one of the limits: reach() says which
      this.reach(limit + 1, what)
      throw new Incomplete(limit + 1)
    }
    if (!Number.isSafeInteger(varint.value))
      throw new FrameError(`malformed varint in the message frame's ${what}`)
    this.offset += varint.bytes
    return varint.value
  }

  /** A length-prefixed UTF-8 string; one over `maxBytes` is refused `id-too-long`. */
  string(what: string, maxBytes = Number.POSITIVE_INFINITY): string {
    const length = this.varint(`${what} length`)
    const end = this.offset + length
    if (end > this.bodyBytes) {
      throw new FrameError(
        `message frame ends inside its ${what} (body of ${this.bodyBytes} bytes)`
      )
    }
    if (length > maxBytes)
      throw new Refused('id-too-long', `message ${what} of ${length} bytes exceeds ${maxBytes}`)
    this.reach(end, what)
    let text: string
    try {
      text = textDecoder.decode(this.bytes.subarray(this.offset, end))
    } catch {
      throw new FrameError(`message frame ${what} is not valid UTF-8`)
    }
    this.offset = end
    return text
  }
}

/**
 * Parses a message frame header from `bytes`, the first bytes received of a
 * body of `bodyBytes` bytes (all of them, or fewer). Never needs more than
 * `maxHeaderBytes` of them: a longer header, or an id over `maxIdBytes`, is
 * refused as soon as its declared length is read. Throws `FrameError` (kind
 * `malformed`) when the bytes break the format.
 */
export function parseMessageHeader(
  bytes: Uint8Array,
  bodyBytes: number,
  limits: HeaderLimits
): HeaderResult {
  const cursor = new HeaderCursor(bytes, bodyBytes, limits.maxHeaderBytes)
  let sequence: number | undefined
  try {
    const type = cursor.uint8('type')
    if (type !== MESSAGE_FRAME)
      throw new FrameError(`expected a message frame (type 1), got type ${type}`)
    sequence = cursor.varint('sequence')
    const id = cursor.string('id', limits.maxIdBytes)
    if (id.length === 0) throw new FrameError('message frame has an empty id')
    const protocol = cursor.string('protocol')
    if (protocol.length === 0) throw new FrameError('message frame has an empty protocol')
    const metaText = cursor.string('meta')
    const header: MessageHeader = { sequence, id, protocol, headerBytes: cursor.offset }
    if (metaText.length > 0) header.meta = parseMeta(metaText)
    return { status: 'complete', header }
  } catch (error) {
    if (error instanceof Incomplete) return { status: 'incomplete', needed: error.needed }
    if (error instanceof Refused) {
      // the sequence comes within the first 9 bytes; a header limit below that is not a refusal
      if (sequence === undefined) throw new FrameError(`message frame header: ${error.reason}`)
      return { status: 'refused', sequence, code: error.code, reason: error.reason }
    }
    throw error
  }
}

/** Parses the meta field: a JSON object of strings, numbers, booleans and nulls. */
export function parseMeta(text: string): Meta {
  let meta: unknown
  try {
    meta = JSON.parse(text)
  } catch {
    throw new FrameError('message frame meta is not valid JSON')
  }
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    throw new FrameError('message frame meta is not a JSON object')
  }
  for (const [key, value] of Object.entries(meta)) {
    const scalar =
      value === null ||
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      typeof value === 'number'
    if (!scalar) throw new FrameError(`message frame meta.${key} is not a JSON scalar`)
  }
  return meta as Meta
}

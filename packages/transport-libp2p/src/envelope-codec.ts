import type { Meta } from '@dntkit/core'
import { ByteReader, ByteWriter } from '@dntkit/core/plugin'
import { Uint8ArrayList } from 'uint8arraylist'
import { MAX_CODE_BYTES, MAX_ID_BYTES, MAX_REASON_BYTES } from './constants.js'
import { FrameError } from './frame-error.js'
import { MESSAGE_FRAME, parseMessageHeader } from './message-header.js'
import { varintLength, writeVarint } from './varint.js'

export { FrameError } from './frame-error.js'
export { MESSAGE_FRAME } from './message-header.js'

/** Frame type of an ack: the first byte of its body. */
export const ACK_FRAME = 0x02

/** What an ack says about the frame it answers. */
export type AckStatus = 'ok' | 'duplicate' | 'rejected' | 'try-later'

const STATUS_CODES: Record<AckStatus, number> = { ok: 0, duplicate: 1, rejected: 2, 'try-later': 3 }
const STATUSES: AckStatus[] = ['ok', 'duplicate', 'rejected', 'try-later']

/** One message on an envelope stream (sender to receiver). */
export interface MessageFrame {
  /** 0 for the first frame of a stream, then +1 per frame. */
  sequence: number
  id: string
  /** The inner protocol: which handler of the receiver gets the payload. */
  protocol: string
  meta?: Meta
  payload: Uint8Array
}

/** The answer to one message frame (receiver to sender). */
export interface AckFrame {
  sequence: number
  status: AckStatus
  /** Machine-readable reason, for `rejected` and `try-later`. */
  code?: string
  /** One human-readable line, for `rejected` and `try-later`. */
  reason?: string
  /**
   * The handler's reply, for `ok` and `duplicate` (absent: no reply; an
   * empty reply is a reply of 0 bytes).
   */
  reply?: Uint8Array
}

const textEncoder = new TextEncoder()
const EMPTY = new Uint8Array(0)

/** `value` as an unsigned varint (multiformats' unsigned-varint). */
export function varintBytes(value: number): Uint8Array {
  const bytes = new Uint8Array(varintLength(value))
  writeVarint(bytes, 0, value)
  return bytes
}

/**
 * A message frame with its length prefix, ready for `stream.send()`: one
 * allocation for prefix and header, the payload not copied.
 */
export function encodeMessageFrame(frame: MessageFrame): Uint8ArrayList {
  const id = textEncoder.encode(frame.id)
  const protocol = textEncoder.encode(frame.protocol)
  const meta = frame.meta == null ? EMPTY : textEncoder.encode(JSON.stringify(frame.meta))
  const headerLength =
    1 +
    varintLength(frame.sequence) +
    varintLength(id.byteLength) +
    id.byteLength +
    varintLength(protocol.byteLength) +
    protocol.byteLength +
    varintLength(meta.byteLength) +
    meta.byteLength
  const bodyLength = headerLength + frame.payload.byteLength
  const head = new Uint8Array(varintLength(bodyLength) + headerLength)
  let offset = writeVarint(head, 0, bodyLength)
  head[offset++] = MESSAGE_FRAME
  offset = writeVarint(head, offset, frame.sequence)
  for (const field of [id, protocol, meta]) {
    offset = writeVarint(head, offset, field.byteLength)
    head.set(field, offset)
    offset += field.byteLength
  }
  return new Uint8ArrayList(head, frame.payload)
}

/** The size limits a receiver checks while decoding a message frame. */
export interface FrameLimits {
  maxMessageBytes: number
  maxHeaderBytes: number
  /** Longest message id (default 256 bytes). */
  maxIdBytes?: number
}

/**
 * Decodes a whole message frame body (without its length prefix). Throws
 * `FrameError` with kind `too-large` when only a size is at fault (payload,
 * header, or id: `code` says which), `malformed` otherwise. The receiver
 * itself reads frames with `MessageFrameReader`, which decides from the
 * header before the payload arrives; both share `parseMessageHeader`.
 */
export function decodeMessageFrame(body: Uint8Array, limits: FrameLimits): MessageFrame {
  const result = parseMessageHeader(body, body.byteLength, {
    maxHeaderBytes: limits.maxHeaderBytes,
    maxIdBytes: limits.maxIdBytes ?? MAX_ID_BYTES
  })
  if (result.status === 'incomplete') throw new FrameError('message frame ends inside its header')
  if (result.status === 'refused') throw new FrameError(result.reason, 'too-large', result.code)
  const { headerBytes, ...header } = result.header
  const payloadBytes = body.byteLength - headerBytes
  if (payloadBytes > limits.maxMessageBytes) {
    throw new FrameError(
      `payload of ${payloadBytes} bytes exceeds ${limits.maxMessageBytes}`,
      'too-large'
    )
  }
  // a copy: the body may be a view of a network buffer (a Node Buffer, whose slice() does not copy)
  return { ...header, payload: new Uint8Array(body.subarray(headerBytes)) }
}

/**
 * An ack with its length prefix. Codes longer than 64 bytes and reasons
 * longer than 1 KiB are cut; a reply travels only with `ok` and `duplicate`.
 * An ack without a reply is the same bytes as before replies existed.
 */
export function encodeAck(ack: AckFrame): Uint8Array {
  const status = STATUS_CODES[ack.status]
  if (ack.status !== 'rejected' && ack.status !== 'try-later') {
    const reply = ack.reply
    const replyField = reply === undefined ? 0 : varintLength(reply.byteLength) + reply.byteLength
    const bodyLength = 2 + varintLength(ack.sequence) + replyField
    const bytes = new Uint8Array(varintLength(bodyLength) + bodyLength)
    let offset = writeVarint(bytes, 0, bodyLength)
    bytes[offset++] = ACK_FRAME
    offset = writeVarint(bytes, offset, ack.sequence)
    bytes[offset++] = status
    if (reply !== undefined) {
      offset = writeVarint(bytes, offset, reply.byteLength)
      bytes.set(reply, offset)
    }
    return bytes
  }
  const body = new ByteWriter(32)
  body.uint8(ACK_FRAME).varint(ack.sequence).uint8(status)
  body
    .string(truncate(ack.code ?? '', MAX_CODE_BYTES))
    .string(truncate(ack.reason ?? '', MAX_REASON_BYTES))
  return new ByteWriter(body.length + 4).bytes(body.finish()).finish()
}

/**
 * Decodes an ack body (without its length prefix); throws `FrameError`, also
 * for a reply longer than `maxReplyBytes` (kind `too-large`).
 */
export function decodeAck(body: Uint8Array, maxReplyBytes = Number.MAX_SAFE_INTEGER): AckFrame {
  const reader = new ByteReader(body)
  try {
    const type = reader.uint8()
    if (type !== ACK_FRAME) throw new FrameError(`expected an ack frame (type 2), got type ${type}`)
    const sequence = reader.varint()
    const statusCode = reader.uint8()
    const status = STATUSES[statusCode]
    if (status == null) throw new FrameError(`unknown ack status ${statusCode}`)
    const ack: AckFrame = { sequence, status }
    if (status === 'rejected' || status === 'try-later') {
      ack.code = reader.string()
      ack.reason = reader.string()
    } else if (reader.remaining > 0) {
      const start = reader.offset
      const length = reader.varint()
      if (length > maxReplyBytes) {
        throw new FrameError(
          `the reply to frame ${sequence} has ${length} bytes, over the ${maxReplyBytes} this sender accepts`,
          'too-large'
        )
      }
      reader.offset = start
      // a copy of our own: the body may be a view of a network buffer (a Node Buffer, whose slice() does not copy)
      ack.reply = new Uint8Array(reader.bytes())
    }
    if (reader.remaining !== 0)
      throw new FrameError(`${reader.remaining} unexpected bytes after the ack`)
    return ack
  } catch (error) {
    if (error instanceof FrameError) throw error
    throw new FrameError(`malformed ack: ${(error as Error).message}`)
  }
}

/** `text` cut to at most `maxBytes` of UTF-8, never inside a character. */
function truncate(text: string, maxBytes: number): string {
  if (textEncoder.encode(text).byteLength <= maxBytes) return text
  let end = Math.min(text.length, maxBytes)
  while (end > 0 && textEncoder.encode(text.slice(0, end)).byteLength > maxBytes - 3) end--
  // do not split a surrogate pair
  const last = text.charCodeAt(end - 1)
  if (last >= 0xd800 && last <= 0xdbff) end--
  return `${text.slice(0, end)}...`
}

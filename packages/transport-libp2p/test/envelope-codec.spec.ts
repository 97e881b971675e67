import { describe, expect, it } from 'vitest'
import {
  decodeAck,
  decodeMessageFrame,
  encodeAck,
  encodeMessageFrame,
  FrameError,
  varintBytes
} from '../src/envelope-codec.js'
import { FrameDecoder } from '../src/frame-decoder.js'

const limits = { maxMessageBytes: 1024, maxHeaderBytes: 256 }

function bodies(bytes: Uint8Array, max = 4096): Uint8Array[] {
  return new FrameDecoder(max).push(bytes)
}

describe('message frames', () => {
  it('round-trips id, protocol, meta and payload, byte for byte as documented', () => {
    const payload = Uint8Array.from([0, 1, 2, 255])
    const wire = encodeMessageFrame({
      sequence: 300,
      id: 'id-1',
      protocol: '/p/1',
      meta: { did: 'x', dataType: 3, ok: true, none: null },
      payload
    }).subarray()
    const meta = JSON.stringify({ did: 'x', dataType: 3, ok: true, none: null })
    // prefix | type 1 | varint 300 (0xac 0x02) | "id-1" | "/p/1" | meta | payload
    const body = [1, 0xac, 0x02, 4, ...Buffer.from('id-1'), 4, ...Buffer.from('/p/1')]
    body.push(meta.length, ...Buffer.from(meta), ...payload)
    expect(Array.from(wire)).toEqual([body.length, ...body])

    const [decodedBody] = bodies(wire)
    const frame = decodeMessageFrame(decodedBody!, limits)
    expect(frame).toEqual({
      sequence: 300,
      id: 'id-1',
      protocol: '/p/1',
      meta: { did: 'x', dataType: 3, ok: true, none: null },
      payload
    })
  })

  it('leaves meta out when there is none, and accepts an empty payload', () => {
    const wire = encodeMessageFrame({
      sequence: 0,
      id: 'a',
      protocol: '/p',
      payload: new Uint8Array(0)
    })
    const frame = decodeMessageFrame(bodies(wire.subarray())[0]!, limits)
    expect(frame).toEqual({ sequence: 0, id: 'a', protocol: '/p', payload: new Uint8Array(0) })
    expect('meta' in frame).toBe(false)
  })

  it('refuses a payload or header over the limits as too-large, anything broken as malformed', () => {
    const big = encodeMessageFrame({
      sequence: 0,
      id: 'a',
      protocol: '/p',
      payload: new Uint8Array(1025)
    })
    expect(() => decodeMessageFrame(bodies(big.subarray())[0]!, limits)).toThrow(
      expect.objectContaining({ kind: 'too-large' })
    )
    const longId = encodeMessageFrame({
      sequence: 0,
      id: 'i'.repeat(300),
      protocol: '/p',
      payload: new Uint8Array(0)
    })
    expect(() => decodeMessageFrame(bodies(longId.subarray())[0]!, limits)).toThrow(
      expect.objectContaining({ kind: 'too-large' })
    )
    const malformed = [
      Uint8Array.from([2, 0, 0]), // an ack where a message belongs
      Uint8Array.from([1, 0, 9, 65]), // id longer than the body
      Uint8Array.from([1, 0, 0, 2, 47, 112, 0]), // empty id
      Uint8Array.from([1, 0, 1, 97, 2, 47, 112, 3, 110, 117, 108]), // meta "nul" is not JSON
      Uint8Array.from([1, 0, 1, 97, 2, 47, 112, 2, 91, 93]), // meta [] is not an object
      Uint8Array.from([1, 0, 1, 97, 2, 47, 112, 8, ...Buffer.from('{"a":{}}')]) // nested meta
    ]
    for (const body of malformed) {
      expect(() => decodeMessageFrame(body, limits)).toThrow(
        expect.objectContaining({ kind: 'malformed' })
      )
    }
  })
})

describe('acks', () => {
  it('round-trips every status, with code and reason where they belong', () => {
    for (const ack of [
      { sequence: 0, status: 'ok' as const },
      { sequence: 7, status: 'duplicate' as const },
      { sequence: 128, status: 'rejected' as const, code: 'handler-error', reason: 'no such user' },
      { sequence: 9, status: 'try-later' as const, code: 'stopping', reason: '' }
    ]) {
      const [body] = bodies(encodeAck(ack))
      expect(decodeAck(body!)).toEqual(ack)
    }
    expect(Array.from(encodeAck({ sequence: 5, status: 'ok' }))).toEqual([3, 2, 5, 0])
    expect(
      Array.from(encodeAck({ sequence: 1, status: 'rejected', code: 'c', reason: 'r' }))
    ).toEqual([7, 2, 1, 2, 1, 99, 1, 114])
  })

  it('cuts long reasons to 1 KiB of UTF-8 and rejects unknown statuses and trailing bytes', () => {
    const [body] = bodies(
      encodeAck({ sequence: 1, status: 'rejected', code: 'x', reason: 'é'.repeat(2000) })
    )
    const ack = decodeAck(body!)
    expect(Buffer.byteLength(ack.reason!)).toBeLessThanOrEqual(1024)
    expect(ack.reason!.endsWith('...')).toBe(true)
    expect(() => decodeAck(Uint8Array.from([2, 0, 4]))).toThrow(FrameError)
    expect(() => decodeAck(Uint8Array.from([2, 0, 0, 0, 9]))).toThrow(/unexpected bytes/)
    expect(() => decodeAck(Uint8Array.from([2, 0, 0, 2, 9]))).toThrow(/malformed ack/)
    expect(() => decodeAck(Uint8Array.from([1, 0, 0]))).toThrow(/expected an ack/)
  })
})

describe('acks with a reply', () => {
  it('carries the reply of ok and duplicate as a length-prefixed field, byte for byte as documented', () => {
    const reply = Buffer.from('id-9')
    // prefix 9 | type 2 | sequence 300 (0xac 0x02) | status ok | reply length 4 | "id-9"
    const wire = encodeAck({ sequence: 300, status: 'ok', reply })
    expect(Array.from(wire)).toEqual([9, 2, 0xac, 0x02, 0, 4, ...reply])
    expect(decodeAck(bodies(wire)[0]!)).toEqual({
      sequence: 300,
      status: 'ok',
      reply: new Uint8Array(reply)
    })
    const duplicate = encodeAck({ sequence: 1, status: 'duplicate', reply: Uint8Array.of(0, 255) })
    expect(Array.from(duplicate)).toEqual([6, 2, 1, 1, 2, 0, 255])
    expect(decodeAck(bodies(duplicate)[0]!).reply).toEqual(Uint8Array.of(0, 255))
  })

  it('keeps an empty reply apart from no reply, and acks without one as they always were', () => {
    const empty = encodeAck({ sequence: 5, status: 'ok', reply: new Uint8Array(0) })
    expect(Array.from(empty)).toEqual([4, 2, 5, 0, 0])
    expect(decodeAck(bodies(empty)[0]!)).toEqual({
      sequence: 5,
      status: 'ok',
      reply: new Uint8Array(0)
    })
    const none = decodeAck(bodies(encodeAck({ sequence: 5, status: 'ok' }))[0]!)
    expect('reply' in none).toBe(false)
    expect(Array.from(encodeAck({ sequence: 5, status: 'ok' }))).toEqual([3, 2, 5, 0])
    expect(Array.from(encodeAck({ sequence: 7, status: 'duplicate' }))).toEqual([3, 2, 7, 1])
  })

  it('a reply longer than the sender takes is too-large; a reply on a refusal is not encoded', () => {
    const wire = encodeAck({ sequence: 0, status: 'ok', reply: new Uint8Array(200) })
    expect(() => decodeAck(bodies(wire)[0]!, 199)).toThrow(
      expect.objectContaining({ kind: 'too-large' })
    )
    expect(decodeAck(bodies(wire)[0]!, 200).reply).toHaveLength(200)
    // a length that announces more than 199 bytes: refused before the bytes are looked at
    expect(() => decodeAck(Uint8Array.of(2, 0, 0, ...varintBytes(1 << 30)), 199)).toThrow(
      /1073741824 bytes, over the 199/
    )
    const refusal = encodeAck({
      sequence: 1,
      status: 'rejected',
      code: 'c',
      reason: 'r',
      reply: Uint8Array.of(1)
    })
    expect(Array.from(refusal)).toEqual([7, 2, 1, 2, 1, 99, 1, 114])
  })

  it('cuts codes to 64 bytes', () => {
    const [body] = bodies(encodeAck({ sequence: 1, status: 'rejected', code: 'c'.repeat(100) }))
    const ack = decodeAck(body!)
    expect(Buffer.byteLength(ack.code!)).toBeLessThanOrEqual(64)
    expect(ack.code!.endsWith('...')).toBe(true)
  })
})

describe('FrameDecoder', () => {
  it('reassembles frames split at every byte boundary and returns several from one chunk', () => {
    const frames = [0, 1, 2].map((sequence) =>
      encodeMessageFrame({
        sequence,
        id: `m${sequence}`,
        protocol: '/p',
        payload: new Uint8Array(200).fill(sequence)
      }).subarray()
    )
    const all = Buffer.concat(frames)
    const decoder = new FrameDecoder(4096)
    const out: Uint8Array[] = []
    for (const byte of all) out.push(...decoder.push(Uint8Array.of(byte)))
    expect(out.map((body) => decodeMessageFrame(body, limits).id)).toEqual(['m0', 'm1', 'm2'])
    expect(decoder.buffered).toBe(0)
    expect(new FrameDecoder(4096).push(all)).toHaveLength(3)
  })

  it('refuses an oversized frame from its length prefix alone, before any body byte', () => {
    const decoder = new FrameDecoder(1000)
    // 1 GiB announced, no body at all
    expect(() => decoder.push(varintBytes(1024 * 1024 * 1024))).toThrow(
      expect.objectContaining({ kind: 'too-large' })
    )
    expect(() => new FrameDecoder(1000).push(varintBytes(1001))).toThrow(
      /1001 bytes exceeds the limit of 1000/
    )
    expect(new FrameDecoder(1000).push(varintBytes(1000))).toEqual([])
  })

  it('refuses a length prefix that is not a varint', () => {
    expect(() => new FrameDecoder(1 << 30).push(new Uint8Array(8).fill(0x80))).toThrow(
      expect.objectContaining({ kind: 'malformed' })
    )
    // seven continuation bytes: still waiting, not yet wrong
    expect(new FrameDecoder(1 << 30).push(new Uint8Array(7).fill(0x80))).toEqual([])
  })
})

describe('varints (uint8-varint)', () => {
  /** The unsigned LEB128 bytes of `value`, written out by hand as the wire format defines them. */
  function leb128(value: number): number[] {
    const bytes: number[] = []
    while (value >= 0x80) {
      bytes.push((value % 0x80) | 0x80)
      value = Math.floor(value / 0x80)
    }
    bytes.push(value)
    return bytes
  }

  it('writes the same bytes as the format says at every length, 1 to 8 bytes, and reads them back', () => {
    const values = [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1]
    values.push(
      2 ** 28,
      2 ** 35 - 1,
      2 ** 35,
      2 ** 42,
      2 ** 49 - 1,
      2 ** 49,
      Number.MAX_SAFE_INTEGER
    )
    for (const value of values) {
      expect(Array.from(varintBytes(value)), String(value)).toEqual(leb128(value))
      // as a sequence number in a frame header: decoded to the same value
      const wire = encodeMessageFrame({
        sequence: value,
        id: 'v',
        protocol: '/p',
        payload: new Uint8Array(0)
      })
      expect(decodeMessageFrame(bodies(wire.subarray())[0]!, limits).sequence).toBe(value)
    }
  })
})

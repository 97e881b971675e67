import { createHash } from 'node:crypto'
import { encodeEntry } from '@dntkit/core/plugin'
import { describe, expect, it } from 'vitest'
import {
  decodeBatch,
  decodeSnapshotRecord,
  encodeBatch,
  encodeChunk,
  encodeEnd,
  entryId
} from '../src/record-payload.js'
import { entry } from './fixtures.js'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

// a 1-byte and a 2-byte varint id length, a payload long enough for a 2-byte length
const small = encodeEntry(entry('a', { payload: Uint8Array.of(1, 2, 3), attempts: 3 }))
const large = encodeEntry(
  entry('x'.repeat(200), { payload: Uint8Array.from({ length: 300 }, (_, index) => index) })
)
const longDelete = 'é'.repeat(70)

// the bytes format version 1 was released with (captured before the varint code moved to uint8-varint)
const SMALL_ENTRY =
  '0100016134313244334b6f6f5745796f70704e43557838597836366f5639664a6e726958774363587744445541326b6a36766e633669444570112f6170702f6372656174652f312e302e3008637269746963616c034278bcfe568000004278bcfe5680000003010203'
const SMALL_BATCH = `010169${SMALL_ENTRY}0104676f6e65`
const BATCH_SHA256 = 'e45cdb5b39aea29a142c1a68142ec1f7e3736438e085c29be4a66885377f26ce'
const CHUNK_SHA256 = '32f08dbac841b3f7ad4b924eb1b0830641cbe53e0f66eac57e9498c7a64eecf1'
const END = '03f0a2048201'

describe('record payloads: the bytes of format version 1', () => {
  it('a batch, a chunk and an end record are byte for byte what version 1 wrote', () => {
    expect(hex(small)).toBe(SMALL_ENTRY)
    expect(hex(encodeBatch([small], ['gone']))).toBe(SMALL_BATCH)
    expect(sha256(encodeBatch([small, large], ['gone', longDelete]))).toBe(BATCH_SHA256)
    expect(sha256(encodeChunk([small, large], small.byteLength + large.byteLength))).toBe(
      CHUNK_SHA256
    )
    expect(hex(encodeEnd(70_000, 130))).toBe(END)
  })

  it('decodes what it encodes, and reads ids with 1- and 2-byte lengths', () => {
    expect(entryId(small)).toBe('a')
    expect(entryId(large)).toBe('x'.repeat(200))
    const batch = decodeBatch(encodeBatch([small, large], ['gone', longDelete]))
    expect(batch.puts.map(hex)).toEqual([hex(small), hex(large)])
    expect(batch.deletes).toEqual(['gone', longDelete])
    expect(decodeSnapshotRecord(Buffer.from(END, 'hex'))).toEqual({
      type: 3,
      entries: 70_000,
      chunks: 130
    })
  })

  it('a malformed id length is a RangeError, never a read past the entry', () => {
    expect(() => entryId(Uint8Array.of(1, 0))).toThrow(RangeError)
    expect(() => entryId(Uint8Array.of(1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).toThrow(
      RangeError
    )
    expect(() => entryId(Uint8Array.of(1, 0, 5, 0x61))).toThrow(/exceeds the entry/)
    // 1 written in two bytes: never what the encoder writes
    expect(() => entryId(Uint8Array.of(1, 0, 0x81, 0x00, 0x61))).toThrow(/malformed/)
  })
})

import { ByteReader, ByteWriter } from '@dntkit/core/plugin'
import { decode as decodeVarint, encodingLength } from 'uint8-varint'

/**
 * Plaintexts of the records after the marker. The first byte says what the
 * record is:
 *
 * ```
 * 1 batch (journal):     varint n, n x (varint length | encodeEntry bytes), varint m, m x (varint length | UTF-8 id)
 * 2 chunk (snapshot):    varint n, n x (varint length | encodeEntry bytes)
 * 3 end (snapshot):      varint total entries | varint chunk records   (the last record of a snapshot)
 * ```
 */
export const BATCH = 1
export const CHUNK = 2
export const END = 3

export function encodeBatch(puts: Uint8Array[], deletes: string[]): Uint8Array {
  let size = 16
  for (const put of puts) size += put.byteLength + 5
  for (const id of deletes) size += id.length * 3 + 5
  const writer = new ByteWriter(size)
  writer.uint8(BATCH).varint(puts.length)
  for (const put of puts) writer.bytes(put)
  writer.varint(deletes.length)
  for (const id of deletes) writer.string(id)
  return writer.finish()
}

export function decodeBatch(plaintext: Uint8Array): { puts: Uint8Array[]; deletes: string[] } {
  const reader = new ByteReader(plaintext)
  const type = reader.uint8()
  if (type !== BATCH) throw new RangeError(`expected a batch record, found type ${type}`)
  const puts = readEntries(reader)
  const count = reader.varint()
  if (count > reader.remaining) throw new RangeError(`delete count ${count} exceeds the record`)
  const deletes: string[] = []
  for (let index = 0; index < count; index++) deletes.push(reader.string())
  if (reader.remaining !== 0)
    throw new RangeError(`${reader.remaining} unexpected bytes after the batch`)
  return { puts, deletes }
}

export function encodeChunk(entries: Uint8Array[], size: number): Uint8Array {
  const writer = new ByteWriter(size + 5 * entries.length + 8)
  writer.uint8(CHUNK).varint(entries.length)
  for (const entry of entries) writer.bytes(entry)
  return writer.finish()
}

export function encodeEnd(entries: number, chunks: number): Uint8Array {
  return new ByteWriter(24).uint8(END).varint(entries).varint(chunks).finish()
}

export type SnapshotRecord =
  | { type: typeof CHUNK; entries: Uint8Array[] }
  | { type: typeof END; entries: number; chunks: number }

export function decodeSnapshotRecord(plaintext: Uint8Array): SnapshotRecord {
  const reader = new ByteReader(plaintext)
  const type = reader.uint8()
  let record: SnapshotRecord
  if (type === CHUNK) record = { type, entries: readEntries(reader) }
  else if (type === END) record = { type, entries: reader.varint(), chunks: reader.varint() }
  else throw new RangeError(`expected a snapshot record, found type ${type}`)
  if (reader.remaining !== 0)
    throw new RangeError(`${reader.remaining} unexpected bytes after the record`)
  return record
}

function readEntries(reader: ByteReader): Uint8Array[] {
  const count = reader.varint()
  if (count > reader.remaining) throw new RangeError(`entry count ${count} exceeds the record`)
  const entries: Uint8Array[] = []
  for (let index = 0; index < count; index++) entries.push(reader.bytes())
  return entries
}

const textDecoder = new TextDecoder('utf-8', { fatal: true })

/** Where the id's varint length starts in an `encodeEntry` encoding: after the version and flags bytes. */
const ID_LENGTH_OFFSET = 2

/** The id of an `encodeEntry` encoding (after version and flags), read without decoding the rest. */
export function entryId(encoded: Uint8Array): string {
  // an id is at most MAX_STORE_ID_BYTES (1,024) UTF-8 bytes (@dntkit/core's rule): its length needs at most 2 varint bytes,
  // and 5 bound the read (uint8-varint reads up to 8, past the end of a short array too)
  let length: number
  try {
    length = decodeVarint(encoded.subarray(ID_LENGTH_OFFSET, ID_LENGTH_OFFSET + 5))
  } catch {
    throw new RangeError('entry id length is malformed')
  }
  const offset = ID_LENGTH_OFFSET + encodingLength(length)
  // the length's last byte has no continuation bit: a longer (non-minimal) encoding is refused
  if ((encoded[offset - 1] as number) >= 0x80) throw new RangeError('entry id length is malformed')
  if (!Number.isSafeInteger(length) || offset + length > encoded.byteLength)
    throw new RangeError('entry id exceeds the entry')
  return textDecoder.decode(encoded.subarray(offset, offset + length))
}

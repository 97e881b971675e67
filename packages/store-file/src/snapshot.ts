import { join } from 'node:path'
import { type Entry, StoreCorruptError } from '@dntkit/core'
import { type Aead, decodeEntry } from '@dntkit/core/plugin'
import { SNAPSHOT_CHUNK_BYTES } from './constants.js'
import { replaceFile, writeAll } from './file-system.js'
import { damagedRecords, type LoadedFile, readRecords } from './record-file.js'
import { encodeHeader, fileName, frame, MARKER_AAD, recordAad, SNAPSHOT } from './record-format.js'
import {
  CHUNK,
  decodeSnapshotRecord,
  encodeChunk,
  encodeEnd,
  type SnapshotRecord
} from './record-payload.js'

/**
 * Writes snapshot `generation` holding `entries` (encoded, in order) as
 * chunk records of about `chunkBytes` (1 MiB) and an end record; atomically (tmp, fsync,
 * rename, fsync directory). Resolves with the file's size.
 */
export async function writeSnapshot(
  directory: string,
  generation: number,
  storeId: Uint8Array,
  key: Aead,
  entries: Uint8Array[],
  chunkBytes: number = SNAPSHOT_CHUNK_BYTES
): Promise<number> {
  const header = encodeHeader(SNAPSHOT, generation, storeId)
  const path = join(directory, fileName(SNAPSHOT, generation))
  return replaceFile(path, directory, async (handle) => {
    let position = 0
    let sequence = 1
    const append = async (bytes: Uint8Array): Promise<void> => {
      await writeAll(handle, bytes, position)
      position += bytes.byteLength
    }
    const appendRecord = async (plaintext: Uint8Array): Promise<void> => {
      await append(frame(await key.seal(plaintext, recordAad(header, sequence++))))
    }
    await append(header.bytes)
    await append(frame(await key.seal(header.bytes, MARKER_AAD)))
    let chunk: Uint8Array[] = []
    let size = 0
    let chunks = 0
    for (const entry of entries) {
      chunk.push(entry)
      size += entry.byteLength
      if (size >= chunkBytes) {
        await appendRecord(encodeChunk(chunk, size))
        chunks++
        chunk = []
        size = 0
      }
    }
    if (chunk.length > 0) {
      await appendRecord(encodeChunk(chunk, size))
      chunks++
    }
    await appendRecord(encodeEnd(entries.length, chunks))
    return position
  })
}

/** A snapshot's entries by id, in order, encoded and decoded (the decoded one keyed by its encoding). */
export interface SnapshotEntries {
  encoded: Map<string, Uint8Array>
  decoded: Map<Uint8Array, Entry>
}

/** Reads a snapshot whose marker opened. Any damage is corruption. */
export async function readSnapshot(file: LoadedFile, key: Aead): Promise<SnapshotEntries> {
  const { path } = file
  const { records, offsets, damage } = await readRecords(file, key)
  if (damage !== undefined) {
    // a snapshot is renamed into place only when complete: even a cut one is damage
    throw damagedRecords(path, damage, records.length, ' in a snapshot')
  }
  const entries = new Map<string, Uint8Array>()
  const decoded = new Map<Uint8Array, Entry>()
  const at = (index: number) => ({
    file: path,
    offset: offsets[index] as number,
    record: index + 1,
    readableBefore: index,
    readableAfter: records.length - index - 1
  })
  let chunks = 0
  let ended = false
  for (const [index, plaintext] of records.entries()) {
    if (ended) {
      throw new StoreCorruptError(`${path}: record ${index + 1} follows the end record`, at(index))
    }
    let record: SnapshotRecord
    try {
      record = decodeSnapshotRecord(plaintext)
      if (record.type === CHUNK) {
        chunks++
        for (const encoded of record.entries) {
          // decoded once here: most snapshot entries are what open() returns
          const entry = decodeEntry(encoded)
          if (entries.has(entry.id)) throw new RangeError(`entry id "${entry.id}" appears twice`)
          entries.set(entry.id, encoded)
          decoded.set(encoded, entry)
        }
        continue
      }
    } catch (error) {
      throw new StoreCorruptError(
        `${path}: record ${index + 1} authenticates but is malformed: ${(error as Error).message}`,
        { cause: error, ...at(index) }
      )
    }
    if (record.entries !== entries.size || record.chunks !== chunks) {
      throw new StoreCorruptError(
        `${path}: end record counts ${record.entries} entries in ${record.chunks} chunks, the file holds ${entries.size} in ${chunks}`,
        at(index)
      )
    }
    ended = true
  }
  if (!ended) {
    throw new StoreCorruptError(`${path}: the end record is missing`, {
      file: path,
      offset: file.bytes.byteLength,
      record: records.length + 1,
      readableBefore: records.length,
      readableAfter: 0
    })
  }
  return { encoded: entries, decoded }
}

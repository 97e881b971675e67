import { readFile } from 'node:fs/promises'
import { type Aead, StoreCorruptError } from '@dntkit/core'
import { OPEN_CONCURRENCY } from './constants.js'
import {
  type FileHeader,
  type FileKind,
  FRAME_BYTES,
  frameLength,
  HEADER_BYTES,
  kindName,
  MARKER_AAD,
  MIN_SEALED_BYTES,
  parseHeader,
  recordAad,
  sameBytes
} from './record-format.js'

/** A store file read into memory, its header checked and its marker tried. */
export interface LoadedFile {
  path: string
  bytes: Uint8Array
  header: FileHeader
  /** False when the marker record did not open with the key: a wrong key (or a damaged marker). */
  markerOpened: boolean
  /** Offset of the first record after the marker. */
  recordsStart: number
}

/** The records of a file, and where its authentic part ends. */
export interface FileRecords {
  /** Plaintexts of records 1..n, in order. */
  records: Uint8Array[]
  /** Offset just after the last authentic record. */
  validEnd: number
  /** Set when the bytes from `validEnd` on are damaged and nothing authentic follows them. */
  tail?: { offset: number; reason: string }
}

/** How many later sequence numbers a candidate record after a damaged one is tried with. */
const RESYNC_SEQUENCES = 64

/**
 * Reads `path`, checks its plaintext header against what its name says and
 * tries the marker record. Throws `StoreCorruptError` for anything that a
 * wrong key cannot explain.
 */
export async function loadFile(
  path: string,
  expected: { kind: FileKind; generation: number },
  key: Aead
): Promise<LoadedFile> {
  // a Buffer is a Uint8Array: no copy
  const bytes: Uint8Array = await readFile(path)
  const header = parseHeader(bytes, path)
  if (header.kind !== expected.kind || header.generation !== expected.generation) {
    throw new StoreCorruptError(
      `${path}: header says ${kindName(header.kind)} generation ${header.generation}, the file name says ${kindName(expected.kind)} generation ${expected.generation}`
    )
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const length = frameLength(bytes, view, HEADER_BYTES)
  const markerEnd = HEADER_BYTES + FRAME_BYTES + (length ?? 0)
  if (length === undefined || length < MIN_SEALED_BYTES || markerEnd > bytes.byteLength) {
    throw new StoreCorruptError(`${path}: the marker record after the header is missing or damaged`)
  }
  let plaintext: Uint8Array
  try {
    plaintext = await key.open(bytes.subarray(HEADER_BYTES + FRAME_BYTES, markerEnd), MARKER_AAD)
  } catch {
    return { path, bytes, header, markerOpened: false, recordsStart: markerEnd }
  }
  if (!sameBytes(plaintext, header.bytes)) {
    throw new StoreCorruptError(
      `${path}: the header does not match its authenticated copy in the marker record`
    )
  }
  return { path, bytes, header, markerOpened: true, recordsStart: markerEnd }
}

interface Frame {
  offset: number
  length: number
}

/**
 * Authenticates every record of a loaded file. A damaged record followed by
 * an authentic one is corruption (`StoreCorruptError`); damage that nothing
 * authentic follows is reported as `tail` for the caller to judge.
 */
export async function readRecords(file: LoadedFile, key: Aead): Promise<FileRecords> {
  const { bytes, header, path } = file
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const frames: Frame[] = []
  let damage: { offset: number; reason: string } | undefined
  let offset = file.recordsStart
  while (offset < bytes.byteLength) {
    const length = frameLength(bytes, view, offset)
    if (length === undefined) {
      const partial = bytes.byteLength - offset < FRAME_BYTES
      damage = { offset, reason: partial ? 'incomplete frame header' : 'damaged frame header' }
      break
    }
    if (length < MIN_SEALED_BYTES) {
      damage = { offset, reason: `impossible record length ${length}` }
      break
    }
    if (offset + FRAME_BYTES + length > bytes.byteLength) {
      damage = { offset, reason: 'incomplete record' }
      break
    }
    frames.push({ offset, length })
    offset += FRAME_BYTES + length
  }

  const records: Uint8Array[] = []
  for (
    let start = 0;
    start < frames.length && records.length === start;
    start += OPEN_CONCURRENCY
  ) {
    const window = frames.slice(start, start + OPEN_CONCURRENCY)
    const results = await Promise.allSettled(
      window.map(async (item, index) =>
        key.open(sealedAt(bytes, item), recordAad(header, start + index + 1))
      )
    )
    for (const [index, result] of results.entries()) {
      if (result.status === 'rejected') {
        damage = { offset: (window[index] as Frame).offset, reason: 'record failed authentication' }
        break
      }
      records.push(result.value)
    }
  }

  if (damage === undefined) return { records, validEnd: bytes.byteLength }
  const damagedSequence = records.length + 1
  const authentic = await findAuthenticAfter(file, view, damage.offset, damagedSequence, key)
  if (authentic !== undefined) {
    throw new StoreCorruptError(
      `${path}: record ${damagedSequence} at offset ${damage.offset} is damaged (${damage.reason}) and authentic record ${authentic.sequence} follows at offset ${authentic.offset}`
    )
  }
  return { records, validEnd: damage.offset, tail: damage }
}

function sealedAt(bytes: Uint8Array, item: Frame): Uint8Array {
  return bytes.subarray(item.offset + FRAME_BYTES, item.offset + FRAME_BYTES + item.length)
}

/** Looks for a record after a damaged one that authenticates with a later sequence number. */
async function findAuthenticAfter(
  file: LoadedFile,
  view: DataView,
  damagedOffset: number,
  damagedSequence: number,
  key: Aead
): Promise<{ offset: number; sequence: number } | undefined> {
  const { bytes, header } = file
  const last = bytes.byteLength - FRAME_BYTES - MIN_SEALED_BYTES
  // the damaged frame itself is a candidate too: it may be authentic at a later position
  for (let offset = damagedOffset; offset <= last; offset++) {
    const length = frameLength(bytes, view, offset)
    if (length === undefined || length < MIN_SEALED_BYTES) continue
    if (offset + FRAME_BYTES + length > bytes.byteLength) continue
    for (
      let sequence = damagedSequence + 1;
      sequence <= damagedSequence + RESYNC_SEQUENCES;
      sequence++
    ) {
      try {
        await key.open(sealedAt(bytes, { offset, length }), recordAad(header, sequence))
        return { offset, sequence }
      } catch {
        // not an authentic record with this sequence number
      }
    }
  }
  return undefined
}

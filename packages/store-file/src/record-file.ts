import { readFile } from 'node:fs/promises'
import { StoreCorruptError } from '@dntkit/core'
import type { Aead } from '@dntkit/core/plugin'
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
import { scanRecords } from './record-scan.js'

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
      `${path}: header says ${kindName(header.kind)} generation ${header.generation}, the file name says ${kindName(expected.kind)} generation ${expected.generation}`,
      { file: path, offset: 0, record: 0 }
    )
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const length = frameLength(bytes, view, HEADER_BYTES)
  const markerEnd = HEADER_BYTES + FRAME_BYTES + (length ?? 0)
  if (length === undefined || length < MIN_SEALED_BYTES || markerEnd > bytes.byteLength) {
    throw new StoreCorruptError(
      `${path}: the marker record after the header is missing or damaged`,
      { file: path, offset: HEADER_BYTES, record: 0 }
    )
  }
  let plaintext: Uint8Array
  try {
    plaintext = await key.open(bytes.subarray(HEADER_BYTES + FRAME_BYTES, markerEnd), MARKER_AAD)
  } catch {
    return { path, bytes, header, markerOpened: false, recordsStart: markerEnd }
  }
  if (!sameBytes(plaintext, header.bytes)) {
    throw new StoreCorruptError(
      `${path}: the header does not match its authenticated copy in the marker record`,
      { file: path, offset: 0, record: 0 }
    )
  }
  return { path, bytes, header, markerOpened: true, recordsStart: markerEnd }
}

/** Damage found in a file's records. */
export interface RecordDamage {
  /**
   * `torn`: the file ends inside its last record and nothing authentic
   * follows: what an interrupted append leaves (a frame cut short, or a
   * zero-filled stretch where the file grew before its data landed).
   * `corrupt`: anything else, a whole record that fails authentication included.
   */
  kind: 'torn' | 'corrupt'
  offset: number
  /** Sequence number of the first record that does not read (1 = the first after the marker). */
  record: number
  reason: string
}

/** The records of a file up to its first damage. */
export interface FileRecords {
  /** Plaintexts of records 1..n, in order, up to the damage. */
  records: Uint8Array[]
  /** Offset of each of them. */
  offsets: number[]
  /** Offset just after the last authentic record before the damage. */
  validEnd: number
  damage?: RecordDamage
}

interface Frame {
  offset: number
  length: number
}

interface FirstProblem {
  offset: number
  reason: string
  /** The file ends inside this frame: a torn tail, unless something authentic follows. */
  torn: boolean
}

function zeroFrom(bytes: Uint8Array, offset: number): boolean {
  for (let index = offset; index < bytes.byteLength; index++) if (bytes[index] !== 0) return false
  return true
}

/** Splits the file into whole frames up to the first one that is not. */
function frameFile(file: LoadedFile): { frames: Frame[]; problem?: FirstProblem } {
  const { bytes } = file
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const frames: Frame[] = []
  let offset = file.recordsStart
  while (offset < bytes.byteLength) {
    const remaining = bytes.byteLength - offset
    if (remaining < FRAME_BYTES) {
      return { frames, problem: { offset, reason: 'incomplete frame header', torn: true } }
    }
    const length = frameLength(bytes, view, offset)
    if (length === undefined) {
      const zero = zeroFrom(bytes, offset)
      const reason = zero ? `zero-filled tail of ${remaining} bytes` : 'damaged frame header'
      return { frames, problem: { offset, reason, torn: zero } }
    }
    if (length < MIN_SEALED_BYTES) {
      const reason = `impossible record length ${length}`
      return { frames, problem: { offset, reason, torn: false } }
    }
    if (offset + FRAME_BYTES + length > bytes.byteLength) {
      const reason = `incomplete record (${length + FRAME_BYTES} bytes declared, ${remaining} present)`
      return { frames, problem: { offset, reason, torn: true } }
    }
    frames.push({ offset, length })
    offset += FRAME_BYTES + length
  }
  return { frames }
}

/**
 * Authenticates every record of a loaded file, in windows of
 * `OPEN_CONCURRENCY`, up to the first damage. Damage is `torn` only when
 * the file ends inside a frame and no authentic record follows; a whole
 * record that fails authentication is always `corrupt` (salvage then tells
 * what reads after it).
 */
export async function readRecords(file: LoadedFile, key: Aead): Promise<FileRecords> {
  const { bytes, header } = file
  const { frames, problem } = frameFile(file)
  let first: FirstProblem | undefined = problem
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
        const offset = (window[index] as Frame).offset
        first = { offset, reason: 'record failed authentication', torn: false }
        break
      }
      records.push(result.value)
    }
  }
  const offsets = frames.slice(0, records.length).map((frame) => frame.offset)
  if (first === undefined) return { records, offsets, validEnd: bytes.byteLength }
  const record = records.length + 1
  // damage at the end is torn only when nothing authentic follows it (what salvage would find)
  const follows = first.torn
    ? (await scanRecords(bytes, header, key, first.offset, record)).records.length > 0
    : false
  const torn = first.torn && !follows
  return {
    records,
    offsets,
    validEnd: first.offset,
    damage: {
      kind: torn ? 'torn' : 'corrupt',
      offset: first.offset,
      record,
      reason: follows ? `${first.reason}, and authentic records follow it` : first.reason
    }
  }
}

/** The error of damage found in a file's records. */
export function damagedRecords(
  path: string,
  damage: RecordDamage,
  readableBefore: number,
  note = ''
): StoreCorruptError {
  return new StoreCorruptError(
    `${path}: record ${damage.record} at offset ${damage.offset} is damaged (${damage.reason})${note}`,
    { file: path, offset: damage.offset, record: damage.record, readableBefore }
  )
}

function sealedAt(bytes: Uint8Array, item: Frame): Uint8Array {
  return bytes.subarray(item.offset + FRAME_BYTES, item.offset + FRAME_BYTES + item.length)
}

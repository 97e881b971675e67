import { readFile } from 'node:fs/promises'
import type { Aead } from '@dntkit/core/plugin'
import {
  encodeHeader,
  type FileHeader,
  type FileKind,
  FRAME_BYTES,
  frameLength,
  HEADER_BYTES,
  MARKER_AAD,
  MIN_SEALED_BYTES,
  parseHeader,
  sameBytes
} from './record-format.js'
import { type ScannedRecord, scanRecords } from './record-scan.js'

/** A stretch of a store file whose records could not be used. */
export interface LostRegion {
  offset: number
  end: number
  /** Sequence number of the first record lost there (0: the header or the marker). */
  record: number
  /** Records lost there, when known (an authentic record follows the stretch). */
  records?: number
  reason: string
  /** Records of the file kept before the stretch and after it. */
  readableBefore: number
  readableAfter: number
}

/** What salvage learnt of a store file before reading its records. */
export interface ProbedFile {
  path: string
  kind: FileKind
  generation: number
  bytes: Uint8Array
  /** The header its marker authenticates (the trusted one), if the marker opens. */
  authenticHeader?: FileHeader
  /** The plaintext header, if it parses and agrees with the file name. */
  plainHeader?: FileHeader
  /** Where the first record after the marker starts (after the header when the marker frame is damaged). */
  recordsStart: number
}

/** A file read as far as it authenticates. */
export interface SalvagedRecords {
  records: ScannedRecord[]
  lost: LostRegion[]
}

function parsed(bytes: Uint8Array, path: string, kind: FileKind, generation: number) {
  try {
    const header = parseHeader(bytes, path)
    return header.kind === kind && header.generation === generation ? header : undefined
  } catch {
    return undefined
  }
}

/** Reads a store file and tries its header and marker, trusting nothing yet. */
export async function probeFile(
  path: string,
  kind: FileKind,
  generation: number,
  key: Aead
): Promise<ProbedFile> {
  const bytes: Uint8Array = await readFile(path)
  const plainHeader = parsed(bytes, path, kind, generation)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const length = frameLength(bytes, view, HEADER_BYTES)
  const markerEnd = HEADER_BYTES + FRAME_BYTES + (length ?? 0)
  const probed: ProbedFile = { path, kind, generation, bytes, recordsStart: HEADER_BYTES }
  if (plainHeader !== undefined) probed.plainHeader = plainHeader
  if (length === undefined || length < MIN_SEALED_BYTES || markerEnd > bytes.byteLength) {
    return probed
  }
  probed.recordsStart = markerEnd
  try {
    const plaintext = await key.open(
      bytes.subarray(HEADER_BYTES + FRAME_BYTES, markerEnd),
      MARKER_AAD
    )
    const authentic = parsed(plaintext, path, kind, generation)
    if (authentic !== undefined) probed.authenticHeader = authentic
  } catch {
    // a wrong key, or a damaged marker
  }
  return probed
}

function region(
  records: ScannedRecord[],
  offset: number,
  end: number,
  record: number,
  reason: string,
  count?: number
): LostRegion {
  return {
    offset,
    end,
    record,
    ...(count === undefined ? {} : { records: count }),
    reason,
    readableBefore: records.filter((item) => item.sequence < record).length,
    readableAfter: records.filter((item) => item.sequence > record).length
  }
}

/**
 * Every record of `file` that authenticates under the header of a store
 * with `storeId`: the marker's authenticated copy of the header, else the
 * plaintext header, else one rebuilt from the file name (records bind the
 * header, so a damaged header costs nothing when its bytes are known).
 * What cannot be used is listed as lost regions.
 */
export async function salvageRecords(
  file: ProbedFile,
  storeId: Uint8Array,
  key: Aead
): Promise<SalvagedRecords> {
  const { bytes, authenticHeader, plainHeader } = file
  const header = authenticHeader ?? plainHeader ?? encodeHeader(file.kind, file.generation, storeId)
  if (!sameBytes(header.storeId, storeId)) {
    return {
      records: [],
      lost: [region([], 0, bytes.byteLength, 0, 'belongs to another store (its store id differs)')]
    }
  }
  const scan = await scanRecords(bytes, header, key, file.recordsStart, 1)
  const lost: LostRegion[] = []
  if (plainHeader === undefined || !sameBytes(plainHeader.bytes, header.bytes)) {
    lost.push(region(scan.records, 0, HEADER_BYTES, 0, 'the plaintext header is damaged'))
  }
  if (authenticHeader === undefined) {
    const reason = 'the marker record is damaged or fails authentication'
    lost.push(region(scan.records, HEADER_BYTES, file.recordsStart, 0, reason))
  }
  for (const gap of scan.gaps) {
    const reason =
      gap.missing === undefined
        ? 'nothing authenticates from here to the end of the file'
        : `${gap.missing} record(s) do not authenticate`
    lost.push(region(scan.records, gap.offset, gap.end, gap.sequence, reason, gap.missing))
  }
  return { records: scan.records, lost }
}

/** A region for a record that authenticates but cannot be used. */
export function unusable(records: ScannedRecord[], record: ScannedRecord, reason: string) {
  return region(records, record.offset, record.end, record.sequence, reason, 1)
}

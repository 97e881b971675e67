import type { Aead } from '@dntkit/core/plugin'
import {
  type FileHeader,
  FRAME_BYTES,
  frameLength,
  MIN_SEALED_BYTES,
  recordAad
} from './record-format.js'

/** How many later sequence numbers a candidate record after damage is tried with. */
export const RESYNC_SEQUENCES = 64

/** A record that authenticated. */
export interface ScannedRecord {
  /** Its sequence number (1 for the first record after the marker). */
  sequence: number
  offset: number
  end: number
  plaintext: Uint8Array
}

/** A stretch of a file that holds no authentic record. */
export interface ScanGap {
  offset: number
  /** Where the next authentic record starts, or the end of the file. */
  end: number
  /** Sequence number of the first record missing here. */
  sequence: number
  /** Records missing here when an authentic record follows (its sequence minus `sequence`); else unknown. */
  missing?: number
}

/** Every authentic record from an offset on, and the gaps between them. */
export interface Scan {
  records: ScannedRecord[]
  gaps: ScanGap[]
}

function sealedAt(bytes: Uint8Array, offset: number, length: number): Uint8Array {
  return bytes.subarray(offset + FRAME_BYTES, offset + FRAME_BYTES + length)
}

/** The sealed length of a whole frame at `offset` that fits in the file, else `undefined`. */
function wholeFrame(bytes: Uint8Array, view: DataView, offset: number): number | undefined {
  const length = frameLength(bytes, view, offset)
  if (length === undefined || length < MIN_SEALED_BYTES) return undefined
  return offset + FRAME_BYTES + length > bytes.byteLength ? undefined : length
}

async function opens(
  key: Aead,
  sealed: Uint8Array,
  header: FileHeader,
  sequence: number
): Promise<Uint8Array | undefined> {
  try {
    return await key.open(sealed, recordAad(header, sequence))
  } catch {
    return undefined
  }
}

/**
 * Authenticates the records of a file from `offset` on, expecting
 * `sequence` first. Past damage it resynchronises: every later offset where a
 * whole frame starts is tried with the next `RESYNC_SEQUENCES` sequence
 * numbers (a record's associated data binds it to its file and position, so
 * only a record written there authenticates), and reading goes on from the
 * first that authenticates. Nothing outside the records is trusted, so a
 * damaged length field costs only the record it belongs to.
 */
export async function scanRecords(
  bytes: Uint8Array,
  header: FileHeader,
  key: Aead,
  offset: number,
  sequence: number
): Promise<Scan> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const records: ScannedRecord[] = []
  const gaps: ScanGap[] = []
  let position = offset
  let expected = sequence
  while (position < bytes.byteLength) {
    const length = wholeFrame(bytes, view, position)
    if (length !== undefined) {
      const plaintext = await opens(key, sealedAt(bytes, position, length), header, expected)
      if (plaintext !== undefined) {
        const end = position + FRAME_BYTES + length
        records.push({ sequence: expected, offset: position, end, plaintext })
        position = end
        expected++
        continue
      }
    }
    const found = await resynchronise(bytes, view, header, key, position, expected)
    if (found === undefined) {
      gaps.push({ offset: position, end: bytes.byteLength, sequence: expected })
      break
    }
    gaps.push({
      offset: position,
      end: found.offset,
      sequence: expected,
      missing: found.sequence - expected
    })
    records.push(found)
    position = found.end
    expected = found.sequence + 1
  }
  return { records, gaps }
}

/** The first authentic record after damage at `damaged` (whose expected sequence is `sequence`). */
async function resynchronise(
  bytes: Uint8Array,
  view: DataView,
  header: FileHeader,
  key: Aead,
  damaged: number,
  sequence: number
): Promise<ScannedRecord | undefined> {
  const last = bytes.byteLength - FRAME_BYTES - MIN_SEALED_BYTES
  for (let offset = damaged; offset <= last; offset++) {
    const length = wholeFrame(bytes, view, offset)
    if (length === undefined) continue
    const sealed = sealedAt(bytes, offset, length)
    // at the damaged offset itself the expected sequence already failed; later on, the
    // expected record may sit after inserted bytes
    const first = offset === damaged ? sequence + 1 : sequence
    for (let candidate = first; candidate < sequence + RESYNC_SEQUENCES; candidate++) {
      const plaintext = await opens(key, sealed, header, candidate)
      if (plaintext !== undefined) {
        return { sequence: candidate, offset, end: offset + FRAME_BYTES + length, plaintext }
      }
    }
  }
  return undefined
}

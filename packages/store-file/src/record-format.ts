import { StoreCorruptError } from '@dntkit/core'
import { NONCE_BYTES, TAG_BYTES, utf8 } from '@dntkit/core/plugin'

/**
 * The byte layout shared by journal and snapshot files:
 *
 * ```
 * header (32 bytes, plaintext):
 *   0  4  magic "DNTF"
 *   4  1  format version (1)
 *   5  1  kind (1 journal, 2 snapshot)
 *   6  2  reserved, zero
 *   8  8  generation, u64 big-endian (also in the file name)
 *   16 16 store id (random, shared by every file of one directory)
 * then records, each:
 *   u32 BE length n | u32 BE (n XOR 0xffffffff) | n bytes: nonce (12) || AES-256-GCM ciphertext || tag (16)
 * ```
 *
 * Record 0 is the marker: its plaintext is the 32 header bytes and its
 * associated data the constant `MARKER_AAD`, so it opens with the right key
 * whatever else is wrong. Record i >= 1 has associated data = header (32) ||
 * u64 BE i, which binds it to its file (kind, generation, store id), format
 * version and position.
 */
export const MAGIC = Uint8Array.from([0x44, 0x4e, 0x54, 0x46])
export const FORMAT_VERSION = 1
export const HEADER_BYTES = 32
export const FRAME_BYTES = 8
export const MIN_SEALED_BYTES = NONCE_BYTES + TAG_BYTES
export const MAX_SEALED_BYTES = 0xffffffff
export const MARKER_AAD = utf8('dntkit/store-file/v1 marker')

export const JOURNAL = 1
export const SNAPSHOT = 2
export type FileKind = typeof JOURNAL | typeof SNAPSHOT

export interface FileHeader {
  kind: FileKind
  generation: number
  storeId: Uint8Array
  /** The 32 header bytes as written. */
  bytes: Uint8Array
}

export function kindName(kind: FileKind): string {
  return kind === JOURNAL ? 'journal' : 'snapshot'
}

/** `journal-000000000000002a.dnt`: generation in 16 lowercase hex digits. */
export function fileName(kind: FileKind, generation: number): string {
  return `${kindName(kind)}-${generation.toString(16).padStart(16, '0')}.dnt`
}

const FILE_NAME = /^(journal|snapshot)-([0-9a-f]{16})\.dnt$/

/** Parses a store file name; `undefined` for any other name. */
export function parseFileName(name: string): { kind: FileKind; generation: number } | undefined {
  const match = FILE_NAME.exec(name)
  if (match == null) return undefined
  const generation = Number.parseInt(match[2] as string, 16)
  if (!Number.isSafeInteger(generation) || generation < 1) return undefined
  return { kind: match[1] === 'journal' ? JOURNAL : SNAPSHOT, generation }
}

const unsupported = new WeakSet<object>()

/** True for the error of a file in another format version: not damage, never quarantined. */
export function isUnsupportedVersion(error: unknown): boolean {
  return error != null && typeof error === 'object' && unsupported.has(error)
}

export function encodeHeader(kind: FileKind, generation: number, storeId: Uint8Array): FileHeader {
  const bytes = new Uint8Array(HEADER_BYTES)
  const view = new DataView(bytes.buffer)
  bytes.set(MAGIC, 0)
  bytes[4] = FORMAT_VERSION
  bytes[5] = kind
  view.setBigUint64(8, BigInt(generation))
  bytes.set(storeId, 16)
  return { kind, generation, storeId: bytes.slice(16), bytes }
}

/** Where in the header of `file` the damage is (the header is record 0's plaintext copy). */
function at(file: string, offset: number): { file: string; offset: number; record: number } {
  return { file, offset, record: 0 }
}

/** Checks the plaintext header of `file`; throws `StoreCorruptError` naming what is wrong. */
export function parseHeader(bytes: Uint8Array, file: string): FileHeader {
  if (bytes.byteLength < HEADER_BYTES) {
    throw new StoreCorruptError(
      `${file}: ${bytes.byteLength} bytes, shorter than the 32-byte header`,
      { file, offset: 0, record: 0, readableBefore: 0 }
    )
  }
  const header = bytes.slice(0, HEADER_BYTES)
  if (!MAGIC.every((byte, index) => header[index] === byte)) {
    throw new StoreCorruptError(`${file}: not a dntkit store file (bad magic)`, at(file, 0))
  }
  if (header[4] !== FORMAT_VERSION) {
    const error = new StoreCorruptError(
      `${file}: format version ${header[4]}, this version of @dntkit/store-file reads version ${FORMAT_VERSION}`,
      at(file, 4)
    )
    unsupported.add(error)
    throw error
  }
  const kind = header[5]
  if (kind !== JOURNAL && kind !== SNAPSHOT)
    throw new StoreCorruptError(`${file}: unknown file kind ${kind}`, at(file, 5))
  if (header[6] !== 0 || header[7] !== 0)
    throw new StoreCorruptError(`${file}: reserved header bytes are not zero`, at(file, 6))
  const generation = new DataView(header.buffer).getBigUint64(8)
  if (generation < 1n || generation > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new StoreCorruptError(`${file}: generation ${generation} out of range`, at(file, 8))
  }
  return { kind, generation: Number(generation), storeId: header.slice(16), bytes: header }
}

/** Associated data of record `sequence` (>= 1) of the file with this header. */
export function recordAad(header: FileHeader, sequence: number): Uint8Array {
  const aad = new Uint8Array(HEADER_BYTES + 8)
  aad.set(header.bytes, 0)
  new DataView(aad.buffer).setBigUint64(HEADER_BYTES, BigInt(sequence))
  return aad
}

/** Frame header + sealed record, ready to append. */
export function frame(sealed: Uint8Array): Uint8Array {
  if (sealed.byteLength > MAX_SEALED_BYTES) {
    throw new RangeError(
      `a store record is limited to 4 GiB, this one is ${sealed.byteLength} bytes`
    )
  }
  const out = new Uint8Array(FRAME_BYTES + sealed.byteLength)
  const view = new DataView(out.buffer)
  view.setUint32(0, sealed.byteLength)
  view.setUint32(4, ~sealed.byteLength >>> 0)
  out.set(sealed, FRAME_BYTES)
  return out
}

/**
 * The sealed length announced by the frame header at `offset`, or
 * `undefined` when fewer than 8 bytes remain or the two length fields
 * disagree (a torn or damaged frame header).
 */
export function frameLength(bytes: Uint8Array, view: DataView, offset: number): number | undefined {
  if (offset + FRAME_BYTES > bytes.byteLength) return undefined
  const length = view.getUint32(offset)
  if (~view.getUint32(offset + 4) >>> 0 !== length) return undefined
  return length
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let index = 0; index < a.byteLength; index++) if (a[index] !== b[index]) return false
  return true
}

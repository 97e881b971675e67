import { join } from 'node:path'
import { type Aead, decodeEntry } from '@dntkit/core/plugin'
import { type FileKind, fileName, JOURNAL, kindName, SNAPSHOT } from './record-format.js'
import { CHUNK, decodeBatch, decodeSnapshotRecord, entryId } from './record-payload.js'
import type { ScannedRecord } from './record-scan.js'
import type { DirectoryListing } from './recovery.js'
import {
  type LostRegion,
  type ProbedFile,
  probeFile,
  salvageRecords,
  unusable
} from './salvage-file.js'

/** One file of the store as salvage found it. */
export interface SalvagedFile {
  path: string
  kind: 'journal' | 'snapshot'
  generation: number
  /** The store needs this file and it is not there. */
  missing: boolean
  /** Records after the marker that authenticate and were used. */
  kept: number
  /** What could not be used; empty for an intact file. */
  lost: LostRegion[]
}

/** Everything of a store that still authenticates. */
export interface Salvage {
  storeId: Uint8Array
  /** Encoded entries by id, in first-put order. */
  entries: Map<string, Uint8Array>
  /** The snapshot and the journals after it, in generation order. */
  files: SalvagedFile[]
  /** Ids of entries that authenticate but do not decode (left out). */
  undecodable: string[]
  /** The highest generation in use (a rebuild writes the next one). */
  generation: number
  /**
   * Some file's marker opened with the key: the key is the store's. When
   * none does, nothing was read (a wrong key, or every marker damaged) and
   * nothing may be rebuilt.
   */
  verified: boolean
}

/** The files that are damaged or missing. */
export function damagedFiles(salvage: Salvage): SalvagedFile[] {
  return salvage.files.filter((file) => file.missing || file.lost.length > 0)
}

function missingFile(directory: string, from: number, to: number): SalvagedFile {
  const path = join(directory, fileName(JOURNAL, from))
  const reason = from === to ? 'missing' : `missing, and the journals up to generation ${to}`
  return {
    path,
    kind: 'journal',
    generation: from,
    missing: true,
    kept: 0,
    lost: [{ offset: 0, end: 0, record: 0, reason, readableBefore: 0, readableAfter: 0 }]
  }
}

/** What a replay could not use, and how many records it could not use. */
interface Replayed {
  lost: LostRegion[]
  unused: number
}

/** Applies a snapshot's records to `entries`. `cut`: nothing authenticates at the file's end. */
function replaySnapshot(
  records: ScannedRecord[],
  entries: Map<string, Uint8Array>,
  size: number,
  cut: boolean
): Replayed {
  const lost: LostRegion[] = []
  let unused = 0
  let found = 0
  let end: { entries: number; record: ScannedRecord } | undefined
  for (const record of records) {
    try {
      const decoded = decodeSnapshotRecord(record.plaintext)
      if (decoded.type !== CHUNK) {
        end = { entries: decoded.entries, record }
        continue
      }
      for (const encoded of decoded.entries) {
        const id = entryId(encoded)
        if (entries.has(id)) continue
        entries.set(id, encoded)
        found++
      }
    } catch (error) {
      lost.push(unusable(records, record, `malformed: ${(error as Error).message}`))
      unused++
    }
  }
  const last = records.at(-1)
  if (end === undefined && !cut) {
    const sequence = (last?.sequence ?? 0) + 1
    lost.push({
      offset: last?.end ?? size,
      end: size,
      record: sequence,
      reason: 'the end record is missing: some of the snapshot may be lost',
      readableBefore: records.length,
      readableAfter: 0
    })
  } else if (end !== undefined && end.entries !== found) {
    const reason = `${end.entries - found} of the snapshot's ${end.entries} entries are lost`
    lost.push(unusable(records, end.record, reason))
  }
  return { lost, unused }
}

/** Applies a journal's batches to `entries`. */
function replayJournal(records: ScannedRecord[], entries: Map<string, Uint8Array>): Replayed {
  const lost: LostRegion[] = []
  let unused = 0
  for (const record of records) {
    try {
      const batch = decodeBatch(record.plaintext)
      const ids = batch.puts.map(entryId)
      for (const id of batch.deletes) entries.delete(id)
      batch.puts.forEach((encoded, index) => {
        entries.set(ids[index] as string, encoded)
      })
    } catch (error) {
      lost.push(unusable(records, record, `malformed: ${(error as Error).message}`))
      unused++
    }
  }
  return { lost, unused }
}

/**
 * Reads every record of the store that still authenticates: the newest
 * snapshot, then each journal after it, past damage where the framing lets
 * it resynchronise (see `scanRecords`). Changes nothing on disk. A batch lost
 * to damage leaves its changes unknown: the entries it put are lost unless a
 * later batch put them again, and those it deleted come back. When no
 * file's marker opens with `key`, nothing is read (`verified: false`).
 */
export async function salvageStore(
  directory: string,
  listing: DirectoryListing,
  key: Aead
): Promise<Salvage> {
  const probed: ProbedFile[] = []
  const files: SalvagedFile[] = []
  const path = (kind: FileKind, generation: number) => join(directory, fileName(kind, generation))
  if (listing.snapshot !== undefined) {
    probed.push(await probeFile(path(SNAPSHOT, listing.snapshot), SNAPSHOT, listing.snapshot, key))
  }
  let next = listing.snapshot ?? 1
  const missing: SalvagedFile[] = []
  for (const generation of listing.journals) {
    if (generation > next) missing.push(missingFile(directory, next, generation - 1))
    probed.push(await probeFile(path(JOURNAL, generation), JOURNAL, generation, key))
    next = generation + 1
  }
  if (listing.journals.length === 0) missing.push(missingFile(directory, next, next))
  const generation = Math.max(listing.snapshot ?? 0, ...listing.journals, 0)
  const trusted = probed.find((file) => file.authenticHeader !== undefined)?.authenticHeader
  if (trusted === undefined) {
    const reason = 'no marker record of the store opens with this key'
    for (const file of probed) {
      const size = file.bytes.byteLength
      const lost = { offset: 0, end: size, record: 0, reason, readableBefore: 0, readableAfter: 0 }
      files.push({
        path: file.path,
        kind: kindName(file.kind) as SalvagedFile['kind'],
        generation: file.generation,
        missing: false,
        kept: 0,
        lost: [lost]
      })
    }
    files.push(...missing)
    return {
      storeId: new Uint8Array(16),
      entries: new Map(),
      files,
      undecodable: [],
      generation,
      verified: false
    }
  }
  const entries = new Map<string, Uint8Array>()
  for (const file of probed) {
    const { records, lost } = await salvageRecords(file, trusted.storeId, key)
    const size = file.bytes.byteLength
    const replayed =
      file.kind === SNAPSHOT
        ? replaySnapshot(
            records,
            entries,
            size,
            lost.some((region) => region.end === size)
          )
        : replayJournal(records, entries)
    files.push({
      path: file.path,
      kind: kindName(file.kind) as SalvagedFile['kind'],
      generation: file.generation,
      missing: false,
      kept: records.length - replayed.unused,
      lost: [...lost, ...replayed.lost].sort((left, right) => left.offset - right.offset)
    })
  }
  files.push(...missing)
  files.sort((left, right) =>
    left.generation === right.generation
      ? (left.kind === 'snapshot' ? 0 : 1) - (right.kind === 'snapshot' ? 0 : 1)
      : left.generation - right.generation
  )
  const undecodable: string[] = []
  for (const [id, encoded] of entries) {
    try {
      decodeEntry(encoded)
    } catch {
      entries.delete(id)
      undecodable.push(id)
    }
  }
  return { storeId: trusted.storeId, entries, files, undecodable, generation, verified: true }
}

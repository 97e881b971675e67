import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { type Entry, StoreCorruptError, StoreKeyMismatchError } from '@dntkit/core'
import { type Aead, decodeEntry } from '@dntkit/core/plugin'
import { TEMPORARY_SUFFIX } from './constants.js'
import {
  damagedRecords,
  type LoadedFile,
  loadFile,
  type RecordDamage,
  readRecords
} from './record-file.js'
import {
  type FileKind,
  fileName,
  JOURNAL,
  parseFileName,
  SNAPSHOT,
  sameBytes
} from './record-format.js'
import { decodeBatch, entryId } from './record-payload.js'
import { readSnapshot } from './snapshot.js'

/** A journal that recovery found authentic up to `validEnd`. */
export interface RecoveredJournal {
  file: LoadedFile
  /** Records after the marker that authenticated. */
  records: number
  validEnd: number
  /** A torn tail after `validEnd` (only the newest journal has one): cut off by an open for writing. */
  tail?: RecordDamage
}

/** What `recover` read from a store directory; nothing on disk is changed by reading it. */
export interface Recovered {
  storeId: Uint8Array
  /** Encoded entries by id, in first-put order. */
  entries: Map<string, Uint8Array>
  decoded: Entry[]
  snapshot?: { generation: number; bytes: number }
  /** Journals since the snapshot, oldest first; the last one is appended to. */
  journals: RecoveredJournal[]
}

/** Store files of a directory, by role. */
export interface DirectoryListing {
  /** Every file of the store format (journals, snapshots, their temporaries). */
  storeFiles: string[]
  /** Files left behind by a crash or a finished compaction, removed once the store opened. */
  leftovers: string[]
  snapshot?: number
  journals: number[]
}

/** Sorts the directory's file names into the store's files; other names are ignored. */
export async function listDirectory(directory: string): Promise<DirectoryListing> {
  const snapshots: number[] = []
  const journals: number[] = []
  const temporaries: string[] = []
  const storeFiles: string[] = []
  for (const name of await readdir(directory)) {
    const parsed = parseFileName(name)
    if (parsed !== undefined) {
      storeFiles.push(name)
      ;(parsed.kind === JOURNAL ? journals : snapshots).push(parsed.generation)
    } else if (
      name.endsWith(TEMPORARY_SUFFIX) &&
      parseFileName(name.slice(0, -TEMPORARY_SUFFIX.length)) !== undefined
    ) {
      storeFiles.push(name)
      temporaries.push(name)
    }
  }
  const base = snapshots.length > 0 ? Math.max(...snapshots) : 0
  const name = (kind: FileKind) => (generation: number) => fileName(kind, generation)
  return {
    storeFiles,
    leftovers: [
      ...temporaries,
      ...snapshots.filter((generation) => generation < base).map(name(SNAPSHOT)),
      ...journals.filter((generation) => generation < base).map(name(JOURNAL))
    ],
    ...(base > 0 ? { snapshot: base } : {}),
    journals: journals.filter((generation) => generation >= base).sort((a, b) => a - b)
  }
}

function corrupt(message: string, options?: ConstructorParameters<typeof StoreCorruptError>[1]) {
  return new StoreCorruptError(message, options)
}

/**
 * Reads the newest snapshot and the journals after it, authenticating every
 * record; changes nothing on disk. Throws `StoreKeyMismatchError` when no
 * file's marker opens with `key`, and `StoreCorruptError` (file, offset,
 * record, what reads before and after) for any damage but a torn tail of the
 * newest journal, which is returned for the caller to cut off or report.
 */
export async function recover(
  directory: string,
  listing: DirectoryListing,
  key: Aead
): Promise<Recovered> {
  const first = listing.snapshot ?? 1
  const expected = listing.journals.map((_, index) => first + index)
  if (
    listing.journals.length === 0 ||
    listing.journals.some((generation, index) => generation !== expected[index])
  ) {
    const missing =
      expected.find((generation, index) => listing.journals[index] !== generation) ?? first
    const path = join(directory, fileName(JOURNAL, missing))
    throw corrupt(
      `${path} is missing (journals present: ${listing.journals.join(', ') || 'none'}, snapshot: ${listing.snapshot ?? 'none'})`,
      { file: path }
    )
  }
  const targets = [
    ...(listing.snapshot === undefined
      ? []
      : [{ kind: SNAPSHOT as FileKind, generation: listing.snapshot }]),
    ...listing.journals.map((generation) => ({ kind: JOURNAL as FileKind, generation }))
  ]
  const files: LoadedFile[] = []
  for (const target of targets) {
    files.push(
      await loadFile(join(directory, fileName(target.kind, target.generation)), target, key)
    )
  }
  const closed = files.filter((file) => !file.markerOpened)
  if (closed.length === files.length) {
    throw new StoreKeyMismatchError(
      `${(files[0] as LoadedFile).path}: the node's key differs from the one this store was written with, or its marker record is damaged (a store made without a key takes the libp2p node's: a node created without a fixed privateKey gets a new identity at every start)`
    )
  }
  if (closed.length > 0) {
    const path = (closed[0] as LoadedFile).path
    throw corrupt(
      `${path}: the marker record fails authentication while the store's other files open with this key`,
      { file: path, offset: 32, record: 0 }
    )
  }
  const storeId = (files[0] as LoadedFile).header.storeId
  for (const file of files) {
    if (!sameBytes(file.header.storeId, storeId)) {
      throw corrupt(
        `${file.path}: belongs to another store (its store id differs from ${(files[0] as LoadedFile).path})`,
        { file: file.path, offset: 16, record: 0 }
      )
    }
  }

  let entries = new Map<string, Uint8Array>()
  let decodedSnapshot = new Map<Uint8Array, Entry>()
  let snapshot: Recovered['snapshot']
  const journalFiles = files.slice()
  if (listing.snapshot !== undefined) {
    const file = journalFiles.shift() as LoadedFile
    const read = await readSnapshot(file, key)
    entries = read.encoded
    decodedSnapshot = read.decoded
    snapshot = { generation: listing.snapshot, bytes: file.bytes.byteLength }
  }

  const journals: RecoveredJournal[] = []
  for (const [index, file] of journalFiles.entries()) {
    const { records, offsets, validEnd, damage } = await readRecords(file, key)
    const newest = index === journalFiles.length - 1
    if (damage !== undefined && (damage.kind === 'corrupt' || !newest)) {
      const note = newest ? '' : ', although a newer journal follows it'
      throw damagedRecords(file.path, damage, records.length, note)
    }
    for (const [number, plaintext] of records.entries()) {
      try {
        const batch = decodeBatch(plaintext)
        // deletes first, as the writer applied them: an id in both moves to the end
        for (const id of batch.deletes) entries.delete(id)
        for (const encoded of batch.puts) entries.set(entryId(encoded), encoded)
      } catch (error) {
        throw corrupt(
          `${file.path}: record ${number + 1} authenticates but is malformed: ${(error as Error).message}`,
          {
            cause: error,
            file: file.path,
            offset: offsets[number] as number,
            record: number + 1,
            readableBefore: number,
            readableAfter: records.length - number - 1
          }
        )
      }
    }
    journals.push({
      file,
      records: records.length,
      validEnd,
      ...(damage === undefined ? {} : { tail: damage })
    })
  }

  const decoded: Entry[] = []
  for (const [id, encoded] of entries) {
    try {
      decoded.push(decodedSnapshot.get(encoded) ?? decodeEntry(encoded))
    } catch (error) {
      throw corrupt(
        `${directory}: entry "${id}" authenticates but does not decode: ${(error as Error).message}`,
        { cause: error, file: directory }
      )
    }
  }
  return { storeId, entries, decoded, ...(snapshot === undefined ? {} : { snapshot }), journals }
}

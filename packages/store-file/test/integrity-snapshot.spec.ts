/**
 * Damage to a snapshot of several records: every bit of one record flipped
 * (and a sample across the rest of the file), the file cut at every offset.
 * Snapshots are renamed into place whole, so any damage is `StoreCorruptError`
 * naming the record and what reads around it, and nothing on disk changes.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Entry, StoreCorruptError } from '@dntkit/core'
import { createAead, deriveKeyBytes, encodeEntry } from '@dntkit/core/plugin'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FILE_STORE_LABEL, fileStore } from '../src/index.js'
import { parseHeader } from '../src/record-format.js'
import { writeSnapshot } from '../src/snapshot.js'
import {
  framesOf,
  names,
  storeFiles,
  type TemporaryDirectory,
  temporaryDirectory,
  testPrivateKey
} from './fixtures.js'
import { encoded, everything, openStore, positions, writeBatches } from './integrity-fixtures.js'

let root: TemporaryDirectory
let key: Uint8Array
let store: string

beforeAll(async () => {
  root = await temporaryDirectory()
  key = await deriveKeyBytes(testPrivateKey(), FILE_STORE_LABEL)
})

afterAll(() => root.remove())

describe('a snapshot of several records', () => {
  let path: string
  let original: Buffer
  let frames: { offset: number; end: number }[]
  let expected: Entry[]

  beforeAll(async () => {
    store = join(root.path, 'snapshot')
    const states = await writeBatches(store, key)
    expected = states[6] as Entry[]
    const instance = fileStore({ directory: store, key, compaction: false })
    await instance.open()
    await instance.compact()
    await instance.close()
    // rewritten with one entry per chunk: a snapshot of several small records
    path = join(store, names(await storeFiles(store), 'snapshot')[0] as string)
    const header = parseHeader(await readFile(path), path)
    await writeSnapshot(
      store,
      header.generation,
      header.storeId,
      await createAead({ key }, FILE_STORE_LABEL),
      expected.map(encodeEntry),
      1
    )
    original = await readFile(path)
    frames = framesOf(original)
    expect(frames.length).toBeGreaterThanOrEqual(4)
    expect(encoded((await openStore(store, key, false)).entries)).toEqual(encoded(expected))
  })

  it('every bit of a record flipped, and a sample elsewhere: StoreCorruptError naming it, nothing changed', async () => {
    const target = frames[1] as { offset: number; end: number }
    for (const bit of positions(original.byteLength, target)) {
      const damaged = Buffer.from(original)
      const byte = Math.floor(bit / 8)
      damaged[byte] = (damaged[byte] as number) ^ (1 << (bit % 8))
      await writeFile(path, damaged)
      const before = await everything(store)
      for (const readOnly of [true, false]) {
        const where = `bit ${bit} (byte ${byte}), ${readOnly ? 'read-only' : 'for writing'}`
        const { entries, error } = await openStore(store, key, readOnly)
        expect(entries, where).toBeUndefined()
        // the journal's marker opens with the key, so a damaged snapshot marker is damage too
        expect(StoreCorruptError.isInstance(error), `${where}: ${error}`).toBe(true)
        const corrupt = error as StoreCorruptError
        expect(corrupt.file, where).toBe(path)
        const record = frames.findIndex((frame) => byte >= frame.offset && byte < frame.end)
        if (record >= 1) {
          expect(corrupt.record, where).toBe(record)
          expect(corrupt.readableBefore, where).toBe(record - 1)
          expect(corrupt.readableAfter, where).toBe(frames.length - 1 - record)
        }
      }
      expect(await everything(store), `bit ${bit}: nothing changed`).toEqual(before)
    }
    await writeFile(path, original)
  })

  it('cut at every byte offset: StoreCorruptError with the records before the cut, nothing changed', async () => {
    for (let length = 0; length < original.byteLength; length++) {
      await writeFile(path, original.subarray(0, length))
      const before = await everything(store)
      const complete = frames.filter((frame, index) => index > 0 && frame.end <= length).length
      for (const readOnly of [true, false]) {
        const where = `cut to ${length} bytes, ${readOnly ? 'read-only' : 'for writing'}`
        const { error, warnings } = await openStore(store, key, readOnly)
        expect(StoreCorruptError.isInstance(error), `${where}: ${error}`).toBe(true)
        expect((error as StoreCorruptError).file, where).toBe(path)
        if (length >= (frames[0]?.end ?? 0)) {
          expect((error as StoreCorruptError).readableBefore, where).toBe(complete)
        }
        expect(warnings, where).toEqual([])
      }
      expect(await everything(store), `cut to ${length} bytes: nothing changed`).toEqual(before)
    }
    await writeFile(path, original)
  })
})

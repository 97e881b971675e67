/**
 * Damage to a journal of several records, byte by byte: every bit of one
 * record flipped (and a sample across the rest of the file), the file cut at
 * every offset. Opens for writing and read-only opens are both checked: an
 * open returns every record or an error, a cut journal gives exactly the
 * records that end before the cut, and nothing on disk changes except a torn
 * tail cut by an open for writing (its bytes kept beside the journal).
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Entry, StoreCorruptError, StoreKeyMismatchError } from '@dntkit/core'
import { deriveKeyBytes } from '@dntkit/core/plugin'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FILE_STORE_LABEL, fileStore } from '../src/index.js'
import {
  entry,
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

describe('a journal of several records', () => {
  let states: Entry[][]
  let path: string
  let original: Buffer
  let frames: { offset: number; end: number }[]

  beforeAll(async () => {
    store = join(root.path, 'journal')
    states = await writeBatches(store, key)
    path = join(store, names(await storeFiles(store), 'journal')[0] as string)
    original = await readFile(path)
    frames = framesOf(original)
    expect(frames).toHaveLength(7)
    expect(frames.at(-1)?.end).toBe(original.byteLength)
  })

  it('every bit of a record flipped, and a sample elsewhere: every record or an error, nothing changed', async () => {
    const target = frames[4] as { offset: number; end: number }
    const outcomes = { corrupt: 0, keyMismatch: 0, whole: 0 }
    for (const bit of positions(original.byteLength, target)) {
      const damaged = Buffer.from(original)
      const byte = Math.floor(bit / 8)
      damaged[byte] = (damaged[byte] as number) ^ (1 << (bit % 8))
      await writeFile(path, damaged)
      const before = await everything(store)
      for (const readOnly of [true, false]) {
        const where = `bit ${bit} (byte ${byte}), ${readOnly ? 'read-only' : 'for writing'}`
        const { entries, error, warnings } = await openStore(store, key, readOnly)
        expect(warnings, where).toEqual([])
        if (error === undefined) {
          expect(encoded(entries), where).toEqual(encoded(states[6]))
          outcomes.whole++
          continue
        }
        expect((error as Error).message, where).toContain(path)
        if (StoreKeyMismatchError.isInstance(error)) {
          // a damaged marker of a store's only file cannot be told from a wrong key
          const marker = frames[0] as { offset: number; end: number }
          expect(byte >= marker.offset + 8 && byte < marker.end, where).toBe(true)
          outcomes.keyMismatch++
          continue
        }
        expect(StoreCorruptError.isInstance(error), `${where}: ${error}`).toBe(true)
        const corrupt = error as StoreCorruptError
        expect(corrupt.file, where).toBe(path)
        const record = frames.findIndex((frame) => byte >= frame.offset && byte < frame.end)
        if (record >= 1) {
          // a record (or its frame header): named, with what reads around it
          expect(corrupt.record, where).toBe(record)
          expect(corrupt.offset, where).toBe(frames[record]?.offset)
          expect(corrupt.readableBefore, where).toBe(record - 1)
          expect(corrupt.readableAfter, where).toBe(frames.length - 1 - record)
        } else {
          expect(corrupt.record, where).toBe(0)
        }
        outcomes.corrupt++
      }
      expect(await everything(store), `bit ${bit}: nothing changed`).toEqual(before)
    }
    // a bit flip can never give back a whole store: GCM authenticates every byte of every record
    expect(outcomes.whole).toBe(0)
    expect(outcomes.corrupt).toBeGreaterThan((target.end - target.offset) * 16)
    await writeFile(path, original)
  })

  it('cut at every byte offset: exactly the records that end before the cut, the cut bytes kept aside', async () => {
    for (let length = 0; length < original.byteLength; length++) {
      const kept = frames.filter((frame, index) => index > 0 && frame.end <= length).length
      const boundary = frames[kept]?.end ?? 0
      const where = `cut to ${length} bytes`
      await writeFile(path, original.subarray(0, length))
      const before = await everything(store)
      const reader = await openStore(store, key, true)
      expect(await everything(store), `${where}, read-only`).toEqual(before)
      const writer = await openStore(store, key, false)
      if (length < (frames[0]?.end ?? 0)) {
        // the header or the marker is cut: a journal is created whole, so this is damage
        for (const opened of [reader, writer]) {
          expect(StoreCorruptError.isInstance(opened.error), `${where}: ${opened.error}`).toBe(true)
          expect((opened.error as StoreCorruptError).file, where).toBe(path)
        }
        expect(await everything(store), where).toEqual(before)
        continue
      }
      for (const opened of [reader, writer]) {
        expect(opened.error, where).toBeUndefined()
        expect(encoded(opened.entries), where).toEqual(encoded(states[kept]))
      }
      if (length === boundary) {
        expect(reader.warnings, where).toEqual([])
        expect(writer.warnings, where).toEqual([])
        expect(await everything(store), where).toEqual(before)
        continue
      }
      const torn = (await readdir(store)).filter((name) => name.includes('.torn-'))
      const cut = length - boundary
      for (const opened of [reader, writer]) {
        expect(
          opened.warnings.map((warning) => [warning.code, warning.file]),
          where
        ).toEqual([['torn-tail', path]])
        expect(opened.warnings[0]?.message, where).toContain(`${cut} bytes`)
        expect(opened.warnings[0]?.message, where).toContain(`offset ${boundary}`)
      }
      // cut by the open for writing, the bytes kept beside the journal
      expect((await readFile(path)).equals(original.subarray(0, boundary)), where).toBe(true)
      expect(torn, where).toHaveLength(1)
      expect(writer.warnings[0]?.message, where).toContain(torn[0])
      const aside = await readFile(join(store, torn[0] as string))
      expect(aside.equals(original.subarray(boundary, length)), where).toBe(true)
      await rm(join(store, torn[0] as string))
    }
    await writeFile(path, original)
    expect(encoded((await openStore(store, key, false)).entries)).toEqual(encoded(states[6]))
  })

  it('appends after a cut tail continue the record sequence', async () => {
    const last = frames.at(-1) as { offset: number; end: number }
    await writeFile(path, original.subarray(0, last.offset + 20))
    const instance = fileStore({ directory: store, key })
    await instance.open()
    const extra = entry('after-the-cut')
    await instance.apply({ put: [extra] })
    await instance.close()
    expect(encoded((await openStore(store, key, false)).entries)).toEqual(
      encoded([...states[5]!, extra])
    )
    await writeFile(path, original)
    for (const name of await readdir(store))
      if (name.includes('.torn-')) await rm(join(store, name))
  })

  it('a zero-filled tail (the file grew before its data landed) is a torn tail', async () => {
    await writeFile(path, Buffer.concat([original, Buffer.alloc(4096)]))
    const { entries, warnings } = await openStore(store, key, false)
    expect(encoded(entries)).toEqual(encoded(states[6]))
    expect(warnings.map((warning) => warning.code)).toEqual(['torn-tail'])
    expect(await readFile(path)).toEqual(original)
    const torn = (await readdir(store)).filter((name) => name.includes('.torn-'))
    expect(torn).toHaveLength(1)
    expect(await readFile(join(store, torn[0] as string))).toEqual(Buffer.alloc(4096))
    await rm(join(store, torn[0] as string))
  })
})

import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Entry, StoreCorruptError, StoreKeyMismatchError } from '@dntkit/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fileStore, type StoreWarning } from '../src/index.js'
import {
  entry,
  framesOf,
  names,
  random,
  storeFiles,
  type TemporaryDirectory,
  temporaryDirectory,
  testPrivateKey
} from './fixtures.js'

let directory: TemporaryDirectory
let store: string

beforeEach(async () => {
  directory = await temporaryDirectory()
  store = join(directory.path, 'store')
})

afterEach(() => directory.remove())

/** Opens the store, collecting warnings; closes it again. */
async function reopen(
  options: { quarantine?: boolean; privateKey?: Uint8Array } = {}
): Promise<{ entries: Entry[]; warnings: StoreWarning[] }> {
  const warnings: StoreWarning[] = []
  const instance = fileStore({
    directory: store,
    privateKey: options.privateKey ?? testPrivateKey(),
    compaction: false,
    quarantine: options.quarantine ?? false,
    onWarning: (warning) => warnings.push(warning)
  })
  try {
    return { entries: await instance.open(), warnings }
  } finally {
    await instance.close()
  }
}

/** Writes three batches (the last one putting two entries and deleting one); returns the states after the second and third. */
async function writeBatches(): Promise<{ beforeLast: Entry[]; afterLast: Entry[] }> {
  const instance = fileStore({ directory: store, privateKey: testPrivateKey(), compaction: false })
  await instance.open()
  const [a, b, c, d] = [entry('a'), entry('b', { meta: { did: 'did:x' } }), entry('c'), entry('d')]
  await instance.apply({ put: [a, b] })
  await instance.apply({ put: [{ ...a, attempts: 2, lastError: 'PeerUnreachableError: down' }] })
  await instance.apply({ put: [c, d], delete: ['b'] })
  await instance.close()
  const changed = { ...a, attempts: 2, lastError: 'PeerUnreachableError: down' }
  return { beforeLast: [changed, b], afterLast: [changed, c, d] }
}

async function journalPath(): Promise<string> {
  const files = await storeFiles(store)
  return join(store, names(files, 'journal')[0] as string)
}

describe('torn tail', () => {
  it('truncation at every byte offset of the last record recovers every earlier record', async () => {
    const { beforeLast, afterLast } = await writeBatches()
    const path = await journalPath()
    const original = await readFile(path)
    const last = framesOf(original).at(-1) as { offset: number; end: number }
    expect(last.end).toBe(original.byteLength)
    for (let length = last.offset; length < original.byteLength; length++) {
      await writeFile(path, original.subarray(0, length))
      const { entries, warnings } = await reopen()
      expect(entries, `truncated to ${length} bytes`).toEqual(beforeLast)
      if (length === last.offset) expect(warnings).toEqual([])
      else
        expect(warnings.map((warning) => [warning.code, warning.file])).toEqual([
          ['torn-tail', path]
        ])
      // the tail was cut off, so the file now ends after the previous record
      expect((await readFile(path)).byteLength).toBe(last.offset)
    }
    await writeFile(path, original)
    expect((await reopen()).entries).toEqual(afterLast)
  })

  it('appends after a cut tail continue the record sequence', async () => {
    const { beforeLast } = await writeBatches()
    const path = await journalPath()
    const original = await readFile(path)
    const last = framesOf(original).at(-1) as { offset: number; end: number }
    await writeFile(path, original.subarray(0, last.offset + 20))
    const instance = fileStore({ directory: store, privateKey: testPrivateKey() })
    await instance.open()
    const e = entry('e')
    await instance.apply({ put: [e] })
    await instance.close()
    expect((await reopen()).entries).toEqual([...beforeLast, e])
  })

  it('a zero-filled tail (a crash after the file grew) is cut off', async () => {
    const { afterLast } = await writeBatches()
    const path = await journalPath()
    const original = await readFile(path)
    await writeFile(path, Buffer.concat([original, Buffer.alloc(4096)]))
    const { entries, warnings } = await reopen()
    expect(entries).toEqual(afterLast)
    expect(warnings.map((warning) => warning.code)).toEqual(['torn-tail'])
  })
})

describe('damage is detected', () => {
  it('a flipped bit anywhere: an error naming the file, or (last record only) a cut tail', async () => {
    const { beforeLast } = await writeBatches()
    const path = await journalPath()
    const original = await readFile(path)
    const frames = framesOf(original)
    const marker = frames[0] as { offset: number; end: number }
    const last = frames.at(-1) as { offset: number; end: number }
    const next = random(7)
    // every byte of the header, the marker and every frame header, plus random positions
    const positions = new Set<number>()
    for (let position = 0; position < marker.end; position++) positions.add(position)
    for (const frame of frames)
      for (let index = 0; index < 8; index++) positions.add(frame.offset + index)
    while (positions.size < marker.end + frames.length * 8 + 150) {
      positions.add(Math.floor(next() * original.byteLength))
    }
    const outcomes = { corrupt: 0, keyMismatch: 0, tail: 0 }
    for (const position of positions) {
      const damaged = Buffer.from(original)
      damaged[position] = (damaged[position] as number) ^ (1 << Math.floor(next() * 8))
      await writeFile(path, damaged)
      const where = `bit flipped at byte ${position}`
      if (position >= last.offset) {
        const { entries, warnings } = await reopen()
        expect(entries, where).toEqual(beforeLast)
        expect(
          warnings.map((warning) => warning.code),
          where
        ).toEqual(['torn-tail'])
        outcomes.tail++
        continue
      }
      const error = await reopen().then(
        () => undefined,
        (reason: unknown) => reason
      )
      expect(error, where).toBeInstanceOf(Error)
      expect((error as Error).message, where).toContain(path)
      // nothing was modified
      expect((await readFile(path)).equals(damaged), where).toBe(true)
      if (StoreKeyMismatchError.isInstance(error)) {
        // a damaged marker cannot be told from a wrong key when it is the only file
        expect(position >= marker.offset + 8 && position < marker.end, where).toBe(true)
        outcomes.keyMismatch++
      } else {
        expect(StoreCorruptError.isInstance(error), `${where}: ${error}`).toBe(true)
        outcomes.corrupt++
      }
    }
    expect(outcomes.corrupt).toBeGreaterThan(100)
    expect(outcomes.keyMismatch).toBeGreaterThan(0)
    expect(outcomes.tail).toBeGreaterThan(0)
  })

  it('a record moved, replayed or reordered fails authentication', async () => {
    await writeBatches()
    const path = await journalPath()
    const original = await readFile(path)
    const frames = framesOf(original)
    const [first, second, third] = frames
      .slice(1)
      .map((frame) => original.subarray(frame.offset, frame.end)) as [Buffer, Buffer, Buffer]
    const head = original.subarray(0, (frames[1] as { offset: number }).offset)
    const variants = {
      swapped: Buffer.concat([head, second, first, third]),
      replayed: Buffer.concat([head, first, first, second, third]),
      dropped: Buffer.concat([head, first, third])
    }
    for (const [name, bytes] of Object.entries(variants)) {
      await writeFile(path, bytes)
      await expect(reopen(), name).rejects.toSatisfy(
        (error: unknown) =>
          StoreCorruptError.isInstance(error) && (error as Error).message.includes(path)
      )
    }
  })

  it('a record copied from another store with the same key fails authentication', async () => {
    await writeBatches()
    const path = await journalPath()
    const original = await readFile(path)
    const other = join(directory.path, 'other')
    const instance = fileStore({
      directory: other,
      privateKey: testPrivateKey(),
      compaction: false
    })
    await instance.open()
    await instance.apply({ put: [entry('x')] })
    await instance.apply({ put: [entry('y')] })
    await instance.close()
    const foreign = await readFile(join(other, 'journal-0000000000000001.dnt'))
    const foreignRecord = foreign.subarray(
      (framesOf(foreign)[1] as { offset: number }).offset,
      (framesOf(foreign)[1] as { end: number }).end
    )
    const frames = framesOf(original)
    const spliced = Buffer.concat([
      original.subarray(0, (frames[1] as { end: number }).end),
      foreignRecord,
      original.subarray((frames[2] as { end: number }).end)
    ])
    await writeFile(path, spliced)
    await expect(reopen()).rejects.toSatisfy((error: unknown) =>
      StoreCorruptError.isInstance(error)
    )
    // a whole journal of another store is refused too
    await writeFile(path, original)
    for (const location of [store, other]) {
      const compacting = fileStore({
        directory: location,
        privateKey: testPrivateKey(),
        compaction: false
      })
      await compacting.open()
      await compacting.compact()
      await compacting.close()
    }
    const journal = 'journal-0000000000000002.dnt'
    await writeFile(join(store, journal), await readFile(join(other, journal)))
    await expect(reopen()).rejects.toSatisfy(
      (error: unknown) =>
        StoreCorruptError.isInstance(error) &&
        /belongs to another store/.test((error as Error).message)
    )
  })
})

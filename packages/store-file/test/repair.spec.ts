import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  type Entry,
  StoreCorruptError,
  StoreKeyMismatchError,
  StoreLockedError
} from '@dntkit/core'
import { encodeEntry } from '@dntkit/core/plugin'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  fileStore,
  repairFileStore,
  repairOcDiscoveryStore,
  type StoreWarning
} from '../src/index.js'
import {
  entry,
  framesOf,
  names,
  storeFiles,
  type TemporaryDirectory,
  temporaryDirectory,
  testPrivateKey
} from './fixtures.js'

const RUNS = Number(process.env.REPAIR_RUNS ?? 40)
const privateKey = testPrivateKey()

let directory: TemporaryDirectory
let location: string

beforeEach(async () => {
  directory = await temporaryDirectory()
  location = join(directory.path, 'store')
})

afterEach(() => directory.remove())

const describeEntries = (entries: Entry[]): string[] =>
  entries.map((item) => Buffer.from(encodeEntry(item)).toString('hex'))

type Batch = { put: Entry[]; delete: string[] }

/** Batch `n`: two new entries, a replacement of an earlier one, a delete now and then. */
function batchOf(n: number): Batch {
  return {
    put: [entry(`n${n}`), entry(`m${n}`), entry(`n${Math.floor(n / 2)}`, { attempts: n })],
    delete: n % 4 === 3 ? [`m${n - 2}`] : []
  }
}

/** The state after applying `batches` in order. */
function replay(batches: Batch[]): Entry[] {
  const model = new Map<string, Entry>()
  for (const batch of batches) {
    for (const item of batch.put) model.set(item.id, item)
    for (const id of batch.delete) model.delete(id)
  }
  return [...model.values()]
}

/** Writes batches 0..count-1; with `compactAfter`, compacts after that many (a snapshot, then journals). */
async function write(count: number, compactAfter?: number): Promise<Batch[]> {
  const store = fileStore({ directory: location, privateKey, compaction: false })
  await store.open()
  const batches: Batch[] = []
  for (let n = 0; n < count; n++) {
    const batch = batchOf(n)
    await store.apply(batch)
    batches.push(batch)
    if (n + 1 === compactAfter) await store.compact()
  }
  await store.close()
  return batches
}

async function opened(): Promise<{ entries: Entry[]; warnings: StoreWarning[] }> {
  const warnings: StoreWarning[] = []
  const store = fileStore({ directory: location, privateKey, onWarning: (w) => warnings.push(w) })
  try {
    return { entries: await store.open(), warnings }
  } finally {
    await store.close()
  }
}

async function journalPath(index = 0): Promise<string> {
  return join(location, names(await storeFiles(location), 'journal')[index] as string)
}

async function listing(): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of (await readdir(location)).sort()) {
    out[name] = (await readFile(join(location, name))).toString('hex')
  }
  return out
}

describe('repairFileStore', () => {
  it('a directory that does not exist: a TypeError naming it, nothing created', async () => {
    await expect(repairFileStore({ directory: location, privateKey })).rejects.toThrow(
      new TypeError(`repairFileStore: no store at "${location}" (it does not exist)`)
    )
    expect(await readdir(directory.path)).toEqual([])
  })

  it('leaves a healthy store untouched', async () => {
    const batches = await write(5, 2)
    const before = await listing()
    const report = await repairFileStore({ directory: location, privateKey })
    expect(report).toEqual({
      store: location,
      repaired: false,
      entries: replay(batches).length,
      files: [],
      undecodable: []
    })
    expect(await listing()).toEqual(before)
  })

  it('a damaged record in the middle: keeps every record before and after it, the damaged file kept aside', async () => {
    const batches = await write(8)
    const path = await journalPath()
    const original = await readFile(path)
    const frames = framesOf(original)
    // damage the frame header of record 4: even its length is unknown now
    const damaged = Buffer.from(original)
    const at = (frames[4] as { offset: number }).offset + 1
    damaged[at] = (damaged[at] as number) ^ 0x40
    await writeFile(path, damaged)
    await expect(opened()).rejects.toSatisfy(
      (error: unknown) =>
        StoreCorruptError.isInstance(error) &&
        (error as StoreCorruptError).record === 4 &&
        (error as StoreCorruptError).readableBefore === 3 &&
        (error as StoreCorruptError).readableAfter === 4
    )
    const report = await repairFileStore({ directory: location, privateKey })
    const expected = replay(batches.filter((_, index) => index !== 3))
    expect(report.repaired).toBe(true)
    expect(report.entries).toBe(expected.length)
    expect(report.files).toHaveLength(1)
    const [file] = report.files
    expect(file).toMatchObject({ file: path, missing: false, kept: 7 })
    expect(file?.lost).toEqual([
      {
        record: 4,
        offset: (frames[4] as { offset: number }).offset,
        bytes: (frames[4] as { end: number }).end - (frames[4] as { offset: number }).offset,
        records: 1,
        reason: '1 record(s) do not authenticate'
      }
    ])
    expect(file?.movedTo).toMatch(/journal-0000000000000001\.dnt\.corrupt-/)
    expect(await readFile(file?.movedTo as string)).toEqual(damaged)
    const { entries, warnings } = await opened()
    expect(warnings).toEqual([])
    expect(describeEntries(entries)).toEqual(describeEntries(expected))
    // one snapshot, one journal, the aside copy, nothing else
    const movedTo = file?.movedTo as string
    expect((await readdir(location)).sort()).toEqual([
      movedTo.slice(location.length + 1),
      'journal-0000000000000002.dnt',
      'snapshot-0000000000000002.dnt'
    ])
  })

  it('a damaged snapshot chunk and a missing journal: keeps what the other files hold', async () => {
    const batches = await write(6, 3)
    // snapshot 2 (batches 0-2), journal 2 (batches 3-5); a journal 3 of nothing more
    const extra = fileStore({ directory: location, privateKey, compaction: false })
    await extra.open()
    await extra.compact()
    await extra.apply(batchOf(6))
    await extra.close()
    batches.push(batchOf(6))
    const files = await storeFiles(location)
    expect([...files.keys()]).toEqual([
      'journal-0000000000000003.dnt',
      'snapshot-0000000000000003.dnt'
    ])
    await rm(join(location, 'journal-0000000000000003.dnt'))
    const snapshot = join(location, 'snapshot-0000000000000003.dnt')
    const bytes = Buffer.from(files.get('snapshot-0000000000000003.dnt') as Buffer)
    bytes[bytes.byteLength - 3] = (bytes[bytes.byteLength - 3] as number) ^ 1
    await writeFile(snapshot, bytes)
    const report = await repairFileStore({ directory: location, privateKey })
    // the snapshot's only chunk still reads; its end record does not; journal 3 is gone
    expect(report.files.map((file) => [file.file, file.missing])).toEqual([
      [snapshot, false],
      [join(location, 'journal-0000000000000003.dnt'), true]
    ])
    expect(describeEntries((await opened()).entries)).toEqual(
      describeEntries(replay(batches.slice(0, 6)))
    )
  })

  it('a torn tail: every complete record kept, the tail kept aside', async () => {
    const batches = await write(4)
    const path = await journalPath()
    const original = await readFile(path)
    await writeFile(path, original.subarray(0, original.byteLength - 7))
    const report = await repairFileStore({ directory: location, privateKey })
    expect(report.repaired).toBe(true)
    expect(report.files[0]?.kept).toBe(3)
    expect(describeEntries((await opened()).entries)).toEqual(
      describeEntries(replay(batches.slice(0, 3)))
    )
  })

  it('unknown option names are a TypeError naming the option, before anything is read', async () => {
    await expect(
      repairFileStore({ directory: location, privateKey, loger: undefined, dir: 'x' } as never)
    ).rejects.toThrow(new TypeError('repairFileStore: unknown option "dir"'))
    await expect(
      repairOcDiscoveryStore({
        file: join(location, 'dnt_cache.bin'),
        privateKey,
        dry: true
      } as never)
    ).rejects.toThrow(new TypeError('repairOcDiscoveryStore: unknown option "dry"'))
  })

  it('refuses a wrong key and a store a live writer holds, changing nothing', async () => {
    await write(3)
    const path = await journalPath()
    const damaged = Buffer.from(await readFile(path))
    damaged[damaged.byteLength - 40] = (damaged[damaged.byteLength - 40] as number) ^ 1
    await writeFile(path, damaged)
    const before = await listing()
    await expect(
      repairFileStore({ directory: location, privateKey: testPrivateKey(2) })
    ).rejects.toSatisfy((error: unknown) => StoreKeyMismatchError.isInstance(error))
    expect(await listing()).toEqual(before)
    const writer = fileStore({ directory: location, privateKey, onCorrupt: 'quarantine' })
    await writer.open()
    await expect(repairFileStore({ directory: location, privateKey })).rejects.toSatisfy(
      (error: unknown) => StoreLockedError.isInstance(error)
    )
    await writer.close()
  })

  it(`random damage: afterwards the store opens cleanly with versions that were put (${RUNS} runs)`, async () => {
    const batches = await write(10, 4)
    const original = await storeFiles(location)
    const versions = new Set(batches.flatMap((batch) => describeEntries(batch.put)))
    const damage = fc.record({
      file: fc.nat(),
      kind: fc.constantFrom('flip', 'zero', 'cut', 'insert'),
      where: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
      length: fc.integer({ min: 1, max: 64 })
    })
    let run = 0
    await fc.assert(
      fc.asyncProperty(fc.array(damage, { minLength: 1, maxLength: 3 }), async (changes) => {
        location = join(directory.path, `run-${run++}`)
        const files = new Map(original)
        for (const change of changes) {
          const name = [...files.keys()][change.file % files.size] as string
          const bytes = Buffer.from(files.get(name) as Buffer)
          const at = Math.floor(change.where * bytes.byteLength)
          if (change.kind === 'flip' && at < bytes.byteLength)
            bytes[at] = (bytes[at] as number) ^ 0x10
          if (change.kind === 'zero')
            bytes.fill(0, at, Math.min(bytes.byteLength, at + change.length))
          files.set(
            name,
            change.kind === 'cut'
              ? bytes.subarray(0, at)
              : change.kind === 'insert'
                ? Buffer.concat([
                    bytes.subarray(0, at),
                    Buffer.alloc(change.length, 7),
                    bytes.subarray(at)
                  ])
                : bytes
          )
        }
        await mkdir(location, { mode: 0o700 })
        for (const [name, bytes] of files) await writeFile(join(location, name), bytes)
        const before = await listing()
        try {
          await repairFileStore({ directory: location, privateKey })
        } catch (error) {
          // every marker damaged: nothing to trust, nothing changed
          expect(StoreKeyMismatchError.isInstance(error), String(error)).toBe(true)
          expect(await listing()).toEqual(before)
          return
        }
        const { entries, warnings } = await opened()
        expect(warnings).toEqual([])
        for (const item of describeEntries(entries)) expect(versions.has(item)).toBe(true)
        // a second repair finds nothing to do
        expect((await repairFileStore({ directory: location, privateKey })).repaired).toBe(false)
      }),
      { numRuns: RUNS }
    )
  })
})

import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  type Entry,
  StoreClosedError,
  StoreCorruptError,
  StoreKeyMismatchError,
  StoreLockedError
} from '@dntkit/core'
import { deriveKeyBytes } from '@dntkit/core/plugin'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FILE_STORE_LABEL, type FileStore, fileStore, type StoreWarning } from '../src/index.js'
import {
  entry,
  framesOf,
  names,
  storeFiles,
  type TemporaryDirectory,
  temporaryDirectory,
  testPrivateKey
} from './fixtures.js'

let directory: TemporaryDirectory
let location: string
const open: FileStore[] = []

beforeEach(async () => {
  directory = await temporaryDirectory()
  location = join(directory.path, 'store')
})

afterEach(async () => {
  for (const store of open.splice(0)) await store.close().catch(() => {})
  await directory.remove()
})

function make(options: Partial<Parameters<typeof fileStore>[0]> = {}): {
  store: FileStore
  warnings: StoreWarning[]
} {
  const warnings: StoreWarning[] = []
  const store = fileStore({
    directory: location,
    privateKey: testPrivateKey(),
    onWarning: (warning) => warnings.push(warning),
    ...options
  })
  open.push(store)
  return { store, warnings }
}

async function reopened(options: Partial<Parameters<typeof fileStore>[0]> = {}): Promise<Entry[]> {
  const { store } = make(options)
  const entries = await store.open()
  await store.close()
  return entries
}

describe('files and lifecycle', () => {
  it('creates the directory 0700 and every file 0600', async () => {
    const { store } = make()
    await store.open()
    await store.apply({ put: [entry('a')] })
    await store.compact()
    expect((await stat(location)).mode & 0o777).toBe(0o700)
    const found = await readdir(location)
    expect(found.sort()).toEqual([
      'journal-0000000000000002.dnt',
      'lock',
      'snapshot-0000000000000002.dnt'
    ])
    for (const name of found)
      expect((await stat(join(location, name))).mode & 0o777, name).toBe(0o600)
    expect((await readFile(join(location, 'lock'), 'utf8')).trim()).toBe(String(process.pid))
    await store.close()
    expect(await readdir(location)).not.toContain('lock')
  })

  it('refuses a directory path that is a file, naming it', async () => {
    await writeFile(location, 'not a directory')
    const { store } = make()
    await expect(store.open()).rejects.toThrow(TypeError)
    await expect(store.open()).rejects.toThrow(location)
  })

  it('warns when an existing directory is open to group or others', async () => {
    await mkdir(location, { mode: 0o755 })
    const { store, warnings } = make()
    const events: StoreWarning[] = []
    store.addEventListener('warning', (event) => events.push(event.detail))
    await store.open()
    expect(warnings.map((warning) => warning.code)).toEqual(['exposed-directory'])
    expect(events).toEqual(warnings)
  })

  it('rejects apply before open and after close with StoreClosedError, and a second open', async () => {
    const { store } = make()
    await expect(store.apply({ put: [entry('a')] })).rejects.toSatisfy(
      StoreClosedError.isInstance.bind(StoreClosedError)
    )
    await store.open()
    await expect(store.open()).rejects.toSatisfy(StoreLockedError.isInstance.bind(StoreLockedError))
    await store.close()
    await expect(store.apply({ put: [entry('a')] })).rejects.toSatisfy(
      StoreClosedError.isInstance.bind(StoreClosedError)
    )
    expect(await store.open()).toEqual([])
  })

  it('a close during open waits for it and releases the store', async () => {
    const { store } = make()
    const opening = store.open()
    await store.close()
    expect(await opening).toEqual([])
    expect(await readdir(location)).not.toContain('lock')
    await expect(store.apply({ put: [entry('a')] })).rejects.toSatisfy(
      StoreClosedError.isInstance.bind(StoreClosedError)
    )
  })

  it('validates the init', () => {
    expect(() => fileStore({ directory: '', privateKey: testPrivateKey() })).toThrow(TypeError)
    expect(() => fileStore({ directory: location, dir: 'x' } as never)).toThrow(
      'fileStore: unknown option "dir"'
    )
  })

  it('accepts the store key itself: the same bytes as HKDF of the private key', async () => {
    const { store } = make()
    await store.open()
    await store.apply({ put: [entry('a')] })
    await store.close()
    const key = await deriveKeyBytes(testPrivateKey(), FILE_STORE_LABEL)
    expect(await reopened({ privateKey: undefined, key })).toEqual([entry('a')])
  })

  it('writes nothing for a batch that changes nothing', async () => {
    const { store } = make()
    await store.open()
    await store.apply({ put: [entry('a')] })
    const before = await storeFiles(location)
    await store.apply({ delete: ['unknown'] })
    await store.apply({})
    expect(await storeFiles(location)).toEqual(before)
  })
})

describe('compaction', () => {
  it('keeps one snapshot and one journal, removes what it replaced, and reopens the same', async () => {
    const { store } = make({ compaction: { minJournalBytes: 4096 } })
    await store.open()
    const expected = new Map<string, Entry>()
    for (let round = 0; round < 300; round++) {
      const put = [entry(`e${round}`, { payload: new Uint8Array(100).fill(round & 0xff) })]
      const remove = round % 2 === 0 ? [`e${round - 10}`] : []
      await store.apply({ put, delete: remove })
      for (const item of put) expected.set(item.id, item)
      for (const id of remove) expected.delete(id)
    }
    await store.compact()
    const files = await storeFiles(location)
    expect(names(files, 'snapshot')).toHaveLength(1)
    expect(names(files, 'journal')).toHaveLength(1)
    const snapshot = names(files, 'snapshot')[0] as string
    expect(Number.parseInt(snapshot.slice(9, 25), 16)).toBeGreaterThan(2)
    await store.close()
    expect(await reopened()).toEqual([...expected.values()])
  })

  it('recovers from a crash at any step of a compaction', async () => {
    const { store } = make({ compaction: false })
    await store.open()
    await store.apply({ put: [entry('a'), entry('b')] })
    await store.close()
    const generationOne = await storeFiles(location)
    const { store: second } = make({ compaction: false })
    await second.open()
    await second.compact()
    await second.apply({ put: [entry('c')], delete: ['a'] })
    await second.close()
    const expected = [entry('b'), entry('c')]
    // 1. crashed after the new journal, before the snapshot was renamed into place
    await rename(
      join(location, 'snapshot-0000000000000002.dnt'),
      join(location, 'snapshot-0000000000000002.dnt.tmp')
    )
    await writeFile(
      join(location, 'journal-0000000000000001.dnt'),
      generationOne.get('journal-0000000000000001.dnt') as Buffer
    )
    expect(await reopened()).toEqual(expected)
    // the half-written snapshot is gone, the journals are kept
    expect([...(await storeFiles(location)).keys()]).toEqual([
      'journal-0000000000000001.dnt',
      'journal-0000000000000002.dnt'
    ])
    // 2. crashed after the snapshot, before the old journal was removed
    const { store: third } = make({ compaction: false })
    await third.open()
    await third.compact()
    await third.close()
    await writeFile(join(location, 'journal-0000000000000002.dnt'), Buffer.alloc(10))
    expect(await reopened()).toEqual(expected)
    expect([...(await storeFiles(location)).keys()]).toEqual([
      'journal-0000000000000003.dnt',
      'snapshot-0000000000000003.dnt'
    ])
  })

  it('a failed snapshot write is a warning; the journal keeps everything', async () => {
    const { store, warnings } = make({ compaction: false })
    await store.open()
    await store.apply({ put: [entry('a')] })
    // a directory where the snapshot's temporary file goes makes the write fail
    await mkdir(join(location, 'snapshot-0000000000000002.dnt.tmp'))
    await expect(store.compact()).rejects.toMatchObject({ code: 'EISDIR' })
    expect(warnings.map((warning) => warning.code)).toEqual(['compaction-failed'])
    await store.apply({ put: [entry('b')] })
    await store.close()
    expect(await reopened()).toEqual([entry('a'), entry('b')])
  })

  it('a missing journal or a damaged snapshot is corruption, and nothing is modified', async () => {
    const { store } = make({ compaction: false })
    await store.open()
    await store.apply({ put: [entry('a')] })
    await store.compact()
    await store.apply({ put: [entry('b')] })
    await store.close()
    const files = await storeFiles(location)
    const snapshotPath = join(location, names(files, 'snapshot')[0] as string)
    const snapshot = files.get(names(files, 'snapshot')[0] as string) as Buffer
    for (const frame of framesOf(snapshot)) {
      for (const position of [frame.offset, frame.offset + 5, frame.offset + 20, frame.end - 1]) {
        const damaged = Buffer.from(snapshot)
        damaged[position] = (damaged[position] as number) ^ 0x10
        await writeFile(snapshotPath, damaged)
        await expect(reopened(), `byte ${position}`).rejects.toSatisfy(
          (error: unknown) =>
            StoreCorruptError.isInstance(error) && (error as Error).message.includes(snapshotPath)
        )
        expect(await storeFiles(location)).toEqual(
          new Map([...files, [names(files, 'snapshot')[0] as string, damaged]])
        )
      }
    }
    // a truncated snapshot (it is renamed into place only when complete)
    await writeFile(snapshotPath, snapshot.subarray(0, snapshot.byteLength - 1))
    await expect(reopened()).rejects.toSatisfy(StoreCorruptError.isInstance.bind(StoreCorruptError))
    await writeFile(snapshotPath, snapshot)
    await rename(join(location, 'journal-0000000000000002.dnt'), join(directory.path, 'moved'))
    await expect(reopened()).rejects.toThrow(/journal-0000000000000002\.dnt is missing/)
  })
})

describe('wrong key, quarantine, format version', () => {
  async function filled(): Promise<Map<string, Buffer>> {
    const { store } = make({ compaction: false })
    await store.open()
    await store.apply({ put: [entry('a')] })
    await store.compact()
    await store.apply({ put: [entry('b')] })
    await store.close()
    return storeFiles(location)
  }

  it('a wrong key is StoreKeyMismatchError and nothing is modified', async () => {
    const files = await filled()
    await expect(reopened({ privateKey: testPrivateKey(2) })).rejects.toSatisfy(
      (error: unknown) =>
        StoreKeyMismatchError.isInstance(error) && (error as Error).message.includes(location)
    )
    expect(await storeFiles(location)).toEqual(files)
    expect(await readdir(location)).not.toContain('lock')
    expect(await reopened()).toEqual([entry('a'), entry('b')])
  })

  it("onCorrupt: 'quarantine' leaves a wrong key alone: StoreKeyMismatchError, nothing modified", async () => {
    const files = await filled()
    const { store, warnings } = make({ privateKey: testPrivateKey(2), onCorrupt: 'quarantine' })
    await expect(store.open()).rejects.toSatisfy((error: unknown) =>
      StoreKeyMismatchError.isInstance(error)
    )
    expect(warnings).toEqual([])
    expect(await storeFiles(location)).toEqual(files)
    expect(await reopened()).toEqual([entry('a'), entry('b')])
  })

  it("onCorrupt: 'quarantine' keeps the damaged file aside and opens with what authenticates", async () => {
    const files = await filled()
    const journal = names(files, 'journal')[0] as string
    const damaged = Buffer.from(files.get(journal) as Buffer)
    const record = framesOf(damaged)[1] as { offset: number; end: number }
    damaged[record.offset + 20] = (damaged[record.offset + 20] as number) ^ 1
    await writeFile(join(location, journal), damaged)
    await expect(reopened()).rejects.toSatisfy(
      (error: unknown) =>
        StoreCorruptError.isInstance(error) &&
        (error as StoreCorruptError).file === join(location, journal) &&
        (error as StoreCorruptError).record === 1
    )
    // the deprecated quarantine: true is the same option
    const { store, warnings } = make({ quarantine: true })
    // entry b was in the damaged record: the snapshot's a is what still authenticates
    expect(await store.open()).toEqual([entry('a')])
    await store.apply({ put: [entry('c')] })
    await store.close()
    expect(warnings.map((warning) => warning.code)).toEqual(['quarantined'])
    expect(warnings[0]?.message).toMatch(/StoreCorruptError/)
    const aside = (await readdir(location)).filter((name) => name.includes('.corrupt-'))
    expect(aside).toEqual([expect.stringMatching(new RegExp(`^${journal}\\.corrupt-`))])
    expect(warnings[0]?.message).toContain(aside[0])
    expect(await readFile(join(location, aside[0] as string))).toEqual(damaged)
    expect(await reopened()).toEqual([entry('a'), entry('c')])
  })

  it('a newer format version is an error that quarantine leaves alone', async () => {
    const files = await filled()
    for (const [name, bytes] of files) {
      const newer = Buffer.from(bytes)
      newer[4] = 2
      await writeFile(join(location, name), newer)
    }
    await expect(reopened({ onCorrupt: 'quarantine' })).rejects.toThrow(/format version 2/)
    expect([...(await storeFiles(location)).keys()]).toEqual([...files.keys()])
  })
})

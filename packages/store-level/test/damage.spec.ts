import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  type Entry,
  StoreCorruptError,
  StoreKeyMismatchError,
  StoreReadOnlyError
} from '@dntkit/core'
import { testEntry } from '@dntkit/core/testing'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { levelStore, repairLevelStore } from '../src/index.js'
import { assertDistIsFresh, fixturePath } from './dist.js'
import { editRaw, privateKey, rawContents, rawEntryKey, temporaryDirectory } from './fixtures.js'

let directory: { path: string; remove(): Promise<void> }
let location: string
let child: ChildProcess | undefined

beforeAll(assertDistIsFresh)

beforeEach(async () => {
  directory = await temporaryDirectory()
  location = join(directory.path, 'db')
})

afterEach(async () => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL')
    await once(child, 'close')
  }
  child = undefined
  await directory.remove()
})

/** Every file under the test directory with its SHA-256: LevelDB's own files included. */
async function files(): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const item of await readdir(directory.path, { recursive: true, withFileTypes: true })) {
    if (!item.isFile()) continue
    const path = join(item.parentPath, item.name)
    out[path] = createHash('sha256')
      .update(await readFile(path))
      .digest('hex')
  }
  return out
}

async function seed(count = 5): Promise<Entry[]> {
  const store = levelStore({ location, privateKey })
  await store.open()
  const entries = Array.from({ length: count }, () => testEntry())
  await store.apply({ put: entries })
  await store.close()
  return entries
}

async function damageValue(sequence: number): Promise<void> {
  await editRaw(location, async (db) => {
    const value = Uint8Array.from((await db.get(rawEntryKey(sequence))) as Uint8Array)
    value[20] = (value[20] as number) ^ 1
    await db.put(rawEntryKey(sequence), value)
  })
}

describe('levelStore({ readOnly: true })', () => {
  it('a missing database is empty and nothing is created', async () => {
    const store = levelStore({ location, privateKey, readOnly: true })
    expect(await store.open()).toEqual([])
    await expect(store.apply({ put: [testEntry()] })).rejects.toSatisfy((error: unknown) =>
      StoreReadOnlyError.isInstance(error)
    )
    await store.close()
    await expect(stat(location)).rejects.toThrow(/ENOENT/)
  })

  it('reads a private copy: not one byte of the database changes, even LevelDB’s own files', async () => {
    const entries = await seed()
    const before = await files()
    const store = levelStore({ location, privateKey, readOnly: true })
    expect(await store.open()).toEqual(entries)
    // and again while open, as open() of an open store does
    expect(await store.open()).toEqual(entries)
    await store.close()
    expect(await files()).toEqual(before)
  })

  it('reads a database another process holds open (LevelDB’s lock), and that process keeps it', async () => {
    child = spawn(process.execPath, [fixturePath('hold-lock.mjs'), location], {
      stdio: ['ignore', 'pipe', 'inherit']
    })
    const [line] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer]
    expect(line.toString()).toBe('ready\n')
    const store = levelStore({ location, encryption: false, readOnly: true })
    expect((await store.open()).map((entry) => entry.id)).toEqual(['held'])
    await store.close()
    // the holder still has it: a writer here is locked out
    const writer = levelStore({ location, encryption: false })
    await expect(writer.open()).rejects.toThrow(/locked/)
  })

  it('a damaged value: StoreCorruptError naming the key, with what reads around it; nothing changed', async () => {
    await seed(5)
    await damageValue(2)
    const before = await rawContents(location)
    for (const readOnly of [true, false]) {
      const store = levelStore({ location, privateKey, readOnly })
      const error = await store.open().catch((caught: unknown) => caught)
      expect(StoreCorruptError.isInstance(error), String(error)).toBe(true)
      expect(error).toMatchObject({ key: 'e:2', record: 3, readableBefore: 2, readableAfter: 2 })
      expect((error as Error).message).toMatch(/key e:2 fails authentication/)
    }
    // an open for writing lets LevelDB rewrite its own log files, never a key or a value
    expect(await rawContents(location)).toEqual(before)
    // read-only with onCorrupt: 'quarantine' skips the value, and moves nothing
    const reader = levelStore({ location, privateKey, readOnly: true, onCorrupt: 'quarantine' })
    expect(await reader.open()).toHaveLength(4)
    expect(await reader.quarantined()).toEqual([])
    await reader.close()
    expect(await rawContents(location)).toEqual(before)
  })
})

describe('repairLevelStore', () => {
  it('sets damaged values aside under q, keeps the others; a healthy store is left alone', async () => {
    const entries = await seed(5)
    expect(await repairLevelStore({ location, privateKey })).toMatchObject({
      repaired: false,
      entries: 5,
      files: []
    })
    await damageValue(1)
    await damageValue(3)
    const report = await repairLevelStore({ location, privateKey })
    expect(report).toMatchObject({ repaired: true, entries: 3 })
    expect(report.files[0]?.lost.map((loss) => loss.key)).toEqual(['e:1', 'e:3'])
    const store = levelStore({ location, privateKey })
    expect(await store.open()).toEqual([entries[0], entries[2], entries[4]])
    expect((await store.quarantined()).map((value) => value.key)).toEqual(['e:1', 'e:3'])
    await store.close()
    await expect(
      repairLevelStore({ location, privateKey: new Uint8Array(64).fill(3) })
    ).rejects.toSatisfy((error: unknown) => StoreKeyMismatchError.isInstance(error))
  })

  it('LevelDB’s own corruption is StoreCorruptError; repair keeps the damaged database aside and rebuilds it', async () => {
    const entries = await seed(5)
    // CURRENT names the manifest; without its newline LevelDB reports corruption
    const current = join(location, 'CURRENT')
    const cut = (await readFile(current, 'utf8')).trim()
    await writeFile(current, cut)
    // LevelDB's info log (LOG, LOG.old) is rewritten by every open: every other file stays
    const data = async () =>
      Object.fromEntries(
        Object.entries(await files()).filter(([path]) => !/\/LOG(\.old)?$/.test(path))
      )
    const damaged = await data()
    for (const readOnly of [true, false]) {
      const store = levelStore({ location, privateKey, readOnly })
      const error = await store.open().catch((caught: unknown) => caught)
      expect(StoreCorruptError.isInstance(error), String(error)).toBe(true)
      expect((error as Error).message).toMatch(/LevelDB reports corruption/)
    }
    expect(await data()).toEqual(damaged)
    const report = await repairLevelStore({ location, privateKey })
    expect(report.repaired).toBe(true)
    expect(report.entries).toBe(5)
    const movedTo = report.files[0]?.movedTo as string
    expect(movedTo).toMatch(/db\.corrupt-/)
    expect(await readFile(join(movedTo, 'CURRENT'), 'utf8')).toBe(cut)
    const reopened = levelStore({ location, privateKey })
    expect(await reopened.open()).toEqual(entries)
    await reopened.close()
  })
})

import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Entry, StoreReadOnlyError } from '@dntkit/core'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { fileStore, ocDiscoveryFileStore, type StoreWarning } from '../src/index.js'
import { assertDistIsFresh, fixturePath } from './dist.js'
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
let children: ChildProcess[] = []

beforeAll(assertDistIsFresh)

beforeEach(async () => {
  directory = await temporaryDirectory()
  location = join(directory.path, 'store')
})

afterEach(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await once(child, 'close')
    }
  }
  children = []
  await directory.remove()
})

/** Every file under the test directory: name, size and bytes. */
async function tree(path = directory.path): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const item of await readdir(path, { recursive: true, withFileTypes: true })) {
    if (!item.isFile()) continue
    const file = join(item.parentPath, item.name)
    out[file] = (await readFile(file)).toString('hex')
  }
  return out
}

function reader(onWarning?: (warning: StoreWarning) => void) {
  return fileStore({
    directory: location,
    privateKey: testPrivateKey(),
    readOnly: true,
    ...(onWarning ? { onWarning } : {})
  })
}

async function write(entries: Entry[]): Promise<void> {
  const store = fileStore({ directory: location, privateKey: testPrivateKey(), compaction: false })
  await store.open()
  for (const item of entries) await store.apply({ put: [item] })
  await store.close()
}

describe('fileStore({ readOnly: true })', () => {
  it('a missing directory is an empty store, and nothing is created', async () => {
    const store = reader()
    expect(await store.open()).toEqual([])
    await store.close()
    await expect(stat(location)).rejects.toThrow(/ENOENT/)
  })

  it('takes no lock, removes no leftover, cuts no torn tail: every byte stays', async () => {
    await write([entry('a'), entry('b')])
    const journal = join(location, names(await storeFiles(location), 'journal')[0] as string)
    const bytes = await readFile(journal)
    const last = framesOf(bytes).at(-1) as { offset: number; end: number }
    await writeFile(journal, bytes.subarray(0, last.end - 5))
    await writeFile(join(location, 'snapshot-0000000000000001.dnt.tmp'), 'half a snapshot')
    const before = await tree()
    const warnings: StoreWarning[] = []
    const store = reader((warning) => warnings.push(warning))
    expect(await store.open()).toEqual([entry('a')])
    expect(await readdir(location)).not.toContain('lock')
    await expect(store.apply({ put: [entry('c')] })).rejects.toSatisfy((error: unknown) =>
      StoreReadOnlyError.isInstance(error)
    )
    await expect(store.compact()).rejects.toSatisfy((error: unknown) =>
      StoreReadOnlyError.isInstance(error)
    )
    await store.close()
    expect(await tree()).toEqual(before)
    expect(warnings.map((warning) => [warning.code, warning.file])).toEqual([
      ['torn-tail', journal]
    ])
    expect(warnings[0]?.message).toMatch(/left as they are \(read-only\)/)
  })

  it('reads a store another process holds open, and leaves its lock alone', async () => {
    const child = spawn(process.execPath, [fixturePath('hold-lock.mjs'), 'file', location], {
      stdio: ['ignore', 'pipe', 'inherit']
    })
    children.push(child)
    const [line] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer]
    expect(line.toString()).toBe('ready\n')
    const lock = await readFile(join(location, 'lock'), 'utf8')
    expect(lock.trim()).toBe(String(child.pid))
    const store = reader()
    expect(await store.open()).toEqual([])
    await store.close()
    expect(await readFile(join(location, 'lock'), 'utf8')).toBe(lock)
  })

  it('reads a store this process writes to, while it appends and compacts', async () => {
    const writer = fileStore({
      directory: location,
      privateKey: testPrivateKey(),
      compaction: false
    })
    await writer.open()
    const model = new Map<string, Entry>()
    const states = new Set<string>([JSON.stringify([])])
    const reads: Promise<Entry[]>[] = []
    let compactions = 0
    for (let batch = 0; batch < 60; batch++) {
      const put = [entry(`e${batch}`), entry(`e${batch % 7}`, { attempts: batch })]
      const remove = batch % 5 === 4 ? [`e${batch - 2}`] : []
      const applied = writer.apply({ put, delete: remove })
      // every other batch a compaction too: reads race new journals, snapshots, renames, removals
      const compacted = batch % 2 === 0 ? writer.compact() : Promise.resolve()
      if (batch % 2 === 0) compactions++
      const store = reader()
      reads.push(store.open().finally(() => store.close()))
      await applied
      for (const item of put) model.set(item.id, item)
      for (const id of remove) model.delete(id)
      states.add(JSON.stringify([...model.values()].map((item) => [item.id, item.attempts])))
      await compacted
    }
    await writer.close()
    for (const [index, read] of reads.entries()) {
      const seen = JSON.stringify((await read).map((item) => [item.id, item.attempts]))
      expect(states.has(seen), `read ${index}: ${seen}`).toBe(true)
    }
    const journals = (await readdir(location)).filter((name) => name.startsWith('journal-'))
    expect(journals.map((name) => Number.parseInt(name.slice(8, 24), 16))).toEqual([
      1 + compactions
    ])
  })
})

describe('ocDiscoveryFileStore({ readOnly: true })', () => {
  it('creates no directory, no file and no lock; refuses apply', async () => {
    const file = join(directory.path, 'missing', 'dnt_cache.bin')
    const store = ocDiscoveryFileStore({ file, privateKey: testPrivateKey(), readOnly: true })
    expect(await store.open()).toEqual([])
    await expect(store.apply({ put: [entry('a')] })).rejects.toSatisfy((error: unknown) =>
      StoreReadOnlyError.isInstance(error)
    )
    await store.close()
    await expect(stat(join(directory.path, 'missing'))).rejects.toThrow(/ENOENT/)

    const present = join(directory.path, 'dnt_cache.bin')
    const writer = ocDiscoveryFileStore({ file: present, privateKey: testPrivateKey() })
    await writer.open()
    await writer.apply({ put: [entry('a')] })
    // read while the writer holds its lock
    const before = await tree()
    const second = ocDiscoveryFileStore({
      file: present,
      privateKey: testPrivateKey(),
      readOnly: true
    })
    expect(await second.open()).toEqual([entry('a')])
    await second.close()
    expect(await tree()).toEqual(before)
    await writer.close()
  })
})

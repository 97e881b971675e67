import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  ed25519FromSeed,
  StoreClosedError,
  StoreCorruptError,
  StoreKeyMismatchError,
  StoreLockedError
} from '@dntkit/core'
import { deriveStoreKey } from '@dntkit/core/plugin'
import { testEntry } from '@dntkit/core/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sqliteStore } from '../src/sqlite-store.js'

describe('sqliteStore failures', () => {
  let directory: string
  let file: string

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'dntkit-sqlite-errors-'))
    file = join(directory, 'outbox.sqlite')
  })

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true })
  })

  it('lets one store at a time open a file: a second one gets StoreLockedError', async () => {
    const first = sqliteStore({ file })
    await first.open()
    const second = sqliteStore({ file })
    const error = await second.open().catch((caught: unknown) => caught)
    expect(StoreLockedError.isInstance(error)).toBe(true)
    expect((error as Error).message).toContain(file)
    await first.close()
    await second.open()
    await second.close()
  })

  it('close() lets queued applies finish and refuses new ones', async () => {
    const store = sqliteStore({ file })
    await store.open()
    const entries = [testEntry(), testEntry()]
    const applying = entries.map((entry) => store.apply({ put: [entry] }))
    const closing = store.close()
    const late = await store.apply({ put: [testEntry()] }).catch((caught: unknown) => caught)
    expect(StoreClosedError.isInstance(late)).toBe(true)
    await Promise.all([...applying, closing])
    const reopened = sqliteStore({ file })
    expect(await reopened.open()).toEqual(entries)
    await reopened.close()
  })

  it('takes over the lock of a process that died', async () => {
    const gone = spawnSync(process.execPath, ['-e', '']).pid
    await writeFile(`${file}.lock`, String(gone))
    const store = sqliteStore({ file })
    expect(await store.open()).toEqual([])
    await store.close()
  })

  it('refuses a file that is not SQLite with StoreCorruptError, and leaves it untouched', async () => {
    await writeFile(file, 'not a database at all, just text that is long enough to look like one')
    const before = await readFile(file)
    const error = await sqliteStore({ file })
      .open()
      .catch((caught: unknown) => caught)
    expect(StoreCorruptError.isInstance(error)).toBe(true)
    expect((error as Error).message).toContain(file)
    expect(await readFile(file)).toEqual(before)
  })

  it('refuses sealed records under another key with StoreKeyMismatchError', async () => {
    const label = 'dntkit-example/sqlite-store/v1'
    const key = await deriveStoreKey(ed25519FromSeed(new Uint8Array(32).fill(1)), label)
    const other = await deriveStoreKey(ed25519FromSeed(new Uint8Array(32).fill(2)), label)
    const store = sqliteStore({ file, key })
    await store.open()
    await store.apply({ put: [testEntry()] })
    await store.close()
    const error = await sqliteStore({ file, key: other })
      .open()
      .catch((caught: unknown) => caught)
    expect(StoreKeyMismatchError.isInstance(error)).toBe(true)
  })

  it('rejects an apply whose file write fails, keeps the durable state and recovers', async () => {
    const kept = testEntry()
    const lost = testEntry()
    const later = testEntry()
    const store = sqliteStore({ file })
    await store.open()
    await store.apply({ put: [kept] })
    // a directory where the temporary file must go: the write fails
    await mkdir(`${file}.tmp`)
    await expect(store.apply({ put: [lost] })).rejects.toMatchObject({ code: 'EISDIR' })
    await rm(`${file}.tmp`, { recursive: true })
    await store.apply({ put: [later] })
    await store.close()
    const reopened = sqliteStore({ file })
    expect(await reopened.open()).toEqual([kept, later])
    await reopened.close()
  })
})

import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  StoreCorruptError,
  StoreKeyMismatchError,
  StoreLockedError,
  StoreReadOnlyError
} from '@dntkit/core'
import { testEntry } from '@dntkit/core/testing'
import { MemoryDatastore } from 'datastore-core'
import { LevelDatastore } from 'datastore-level'
import { Key } from 'interface-datastore'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { levelBelow } from '../src/commit.js'
import { datastoreStore } from '../src/index.js'
import { otherPrivateKey, privateKey, temporaryDirectory } from './fixtures.js'

let memory: MemoryDatastore

beforeEach(() => {
  memory = new MemoryDatastore()
})

/** Every key and value of the datastore (values as hex). */
async function raw(datastore: MemoryDatastore): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for await (const { key, value } of datastore.query({})) {
    out.set(key.toString(), Buffer.from(value).toString('hex'))
  }
  return out
}

async function seeded(count = 3) {
  const store = datastoreStore()
  store.useNode({ privateKey, datastore: memory })
  await store.open()
  const entries = Array.from({ length: count }, () => testEntry())
  await store.apply({ put: entries })
  await store.close()
  return entries
}

describe('options', () => {
  it('throws TypeError naming the option at fault', () => {
    expect(() => datastoreStore({ privateKey, dir: 'x' } as never)).toThrow(
      'datastoreStore(): unknown option "dir"'
    )
    expect(() => datastoreStore({ prefix: 'no-slash' })).toThrow(/`prefix` must be a datastore key/)
    expect(() => datastoreStore({ prefix: '/trailing/' })).toThrow(/`prefix`/)
    expect(() => datastoreStore({ datastore: {} as never })).toThrow(
      /`datastore` must be an interface-datastore Datastore/
    )
    expect(() => datastoreStore({ privateKey, encryption: false })).toThrow(/together with a key/)
    expect(() => datastoreStore({ readOnly: 'yes' as never })).toThrow(
      /`readOnly` must be a boolean/
    )
  })

  it('open() without a datastore or without a key says where they come from', async () => {
    await expect(datastoreStore({ privateKey }).open()).rejects.toThrow(
      /has no datastore: pass `datastore`.*dnt\(\) service/
    )
    await expect(datastoreStore({ datastore: memory }).open()).rejects.toThrow(
      /has no key: pass `privateKey`/
    )
  })
})

describe("the node's key and datastore (useNode)", () => {
  it("encrypts with the node's key: entries sealed, no payload or id in the clear", async () => {
    const entries = await seeded()
    const stored = [...(await raw(memory)).entries()]
    expect(stored.map(([key]) => key).sort()).toEqual([
      '/dntkit/outbox/e/0000000000000000',
      '/dntkit/outbox/e/0000000000000001',
      '/dntkit/outbox/e/0000000000000002',
      '/dntkit/outbox/meta'
    ])
    const id = Buffer.from(entries[0]!.id).toString('hex')
    expect(stored.some(([, value]) => value.includes(id))).toBe(false)
    const given = datastoreStore({ datastore: memory, privateKey })
    expect(await given.open()).toEqual(entries)
    await given.close()
  })

  it("another node's key is StoreKeyMismatchError, the node's key differs, and nothing changes", async () => {
    await seeded()
    const before = await raw(memory)
    const other = datastoreStore()
    other.useNode({ privateKey: otherPrivateKey, datastore: memory })
    const opening = other.open()
    await expect(opening).rejects.toSatisfy((error) => StoreKeyMismatchError.isInstance(error))
    await expect(opening).rejects.toThrow(
      "the node's key differs from the one this store was written with"
    )
    await expect(opening).rejects.toThrow(/new identity at every start/)
    expect(await raw(memory)).toEqual(before)
  })

  it("a datastore and key given to the store win over the node's", async () => {
    const own = new MemoryDatastore()
    const store = datastoreStore({ datastore: own, privateKey })
    store.useNode({ privateKey: otherPrivateKey, datastore: memory })
    await store.open()
    await store.apply({ put: [testEntry()] })
    await store.close()
    expect((await raw(memory)).size).toBe(0)
    expect((await raw(own)).size).toBe(2)
  })
})

describe('damage', () => {
  it('an altered value, or a value moved to another key, is StoreCorruptError naming its key', async () => {
    await seeded(4)
    const key = new Key('/dntkit/outbox/e/0000000000000001')
    const value = await memory.get(key)
    const altered = Uint8Array.from(value)
    altered[20] = (altered[20] ?? 0) ^ 1
    await memory.put(key, altered)
    const store = datastoreStore({ datastore: memory, privateKey })
    const opening = store.open()
    await expect(opening).rejects.toSatisfy((error) => StoreCorruptError.isInstance(error))
    await expect(opening).rejects.toMatchObject({
      key: 'e:1',
      record: 2,
      readableBefore: 1,
      readableAfter: 2
    })

    // the original value is fine at its own key, but not at another one
    await memory.put(key, value)
    await memory.put(new Key('/dntkit/outbox/e/0000000000000003'), value)
    await expect(datastoreStore({ datastore: memory, privateKey }).open()).rejects.toMatchObject({
      key: 'e:3'
    })
  })

  it('entries without a marker, or a stray key under the prefix, are StoreCorruptError', async () => {
    await seeded(1)
    await memory.delete(new Key('/dntkit/outbox/meta'))
    await expect(datastoreStore({ datastore: memory, privateKey }).open()).rejects.toThrow(
      /but no marker record/
    )
    const fresh = new MemoryDatastore()
    const store = datastoreStore({ datastore: fresh, privateKey })
    await store.open()
    await store.close()
    await fresh.put(new Key('/dntkit/outbox/e/not-a-sequence'), new Uint8Array(3))
    await expect(datastoreStore({ datastore: fresh, privateKey }).open()).rejects.toThrow(
      /no entry key of this store/
    )
  })
})

describe('one writer per prefix', () => {
  it('a second store on the same prefix of a datastore is StoreLockedError; another prefix or a reader is fine', async () => {
    const first = datastoreStore({ datastore: memory, privateKey })
    await first.open()
    const second = datastoreStore({ datastore: memory, privateKey })
    await expect(second.open()).rejects.toSatisfy((error) => StoreLockedError.isInstance(error))
    const dedupe = datastoreStore({ datastore: memory, privateKey, prefix: '/dntkit/dedupe' })
    expect(await dedupe.open()).toEqual([])
    const reader = datastoreStore({ datastore: memory, privateKey, readOnly: true })
    expect(await reader.open()).toEqual([])
    await expect(reader.apply({ put: [testEntry()] })).rejects.toSatisfy((error) =>
      StoreReadOnlyError.isInstance(error)
    )
    await first.close()
    expect(await second.open()).toEqual([])
    await Promise.all([second.close(), dedupe.close(), reader.close()])
  })
})

describe('durability', () => {
  let directory: { path: string; remove(): Promise<void> }

  beforeEach(async () => {
    directory = await temporaryDirectory()
  })

  afterEach(async () => {
    await directory.remove()
  })

  it("writes to datastore-level's LevelDB with sync: true; other datastores through their batch", async () => {
    const level = new LevelDatastore(directory.path)
    await level.open()
    try {
      expect(levelBelow(level)).toBeDefined()
      expect(levelBelow(memory)).toBeUndefined()
      const batches: unknown[] = []
      const database = level.db as unknown as { batch(...args: unknown[]): Promise<void> }
      const batch = database.batch.bind(database)
      database.batch = (operations, options) => {
        batches.push(options)
        return batch(operations, options)
      }
      const store = datastoreStore({ datastore: level, privateKey })
      await store.open()
      const entry = testEntry()
      await store.apply({ put: [entry] })
      expect(batches).toEqual([{ sync: true }, { sync: true }]) // the marker, the batch
      // what datastore-level itself reads back
      expect(await level.has(new Key('/dntkit/outbox/e/0000000000000000'))).toBe(true)
      await store.close()
      const again = datastoreStore({ datastore: level, privateKey })
      expect(await again.open()).toEqual([entry])
      await again.close()
    } finally {
      await level.close()
    }
  })
})

describe('portability', () => {
  it('src/ imports no node: module (the store runs in browser libp2p nodes)', async () => {
    const source = fileURLToPath(new URL('../src', import.meta.url))
    for (const name of await readdir(source)) {
      const text = await readFile(join(source, name), 'utf8')
      expect(text, name).not.toMatch(/from ['"]node:|require\(['"]node:|process\./)
    }
  })
})

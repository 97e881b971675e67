import {
  StoreClosedError,
  StoreCorruptError,
  StoreKeyMismatchError,
  StoreLockedError
} from '@dntkit/core'
import { testEntry } from '@dntkit/core/testing'
import { ClassicLevel as Level } from 'classic-level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { levelStore } from '../src/index.js'
import { privateKey, temporaryDirectory } from './fixtures.js'

let directory: { path: string; remove(): Promise<void> }
let app: Level<string, string>

async function appKeys(): Promise<Array<[string, string]>> {
  return app.iterator({ keyEncoding: 'utf8', valueEncoding: 'utf8' }).all()
}

beforeEach(async () => {
  directory = await temporaryDirectory()
  app = new Level<string, string>(directory.path, { valueEncoding: 'json' })
  await app.open()
  await app.batch([
    { type: 'put', key: 'a', value: 'first' },
    { type: 'put', key: 'user:1', value: { name: 'Ada' } as never },
    { type: 'put', key: '~last', value: 'last' }
  ])
  await app.sublevel('cache').put('k', 'cached')
})

afterEach(async () => {
  await app.close()
  await directory.remove()
})

describe('inside an application database', () => {
  it('keeps to its own sublevel, never touches the application keys, and leaves the database open', async () => {
    const before = await appKeys()
    const store = levelStore({ db: app, prefix: 'outbox', privateKey })
    expect(await store.open()).toEqual([])
    const entries = [testEntry(), testEntry(), testEntry()]
    await store.apply({ put: entries })
    await store.apply({ delete: [entries[1]!.id], put: [{ ...entries[0]!, attempts: 4 }] })
    await store.close()
    expect(app.status).toBe('open')

    const after = await appKeys()
    const own = after.filter(([key]) => key.startsWith('!outbox!'))
    expect(after.filter(([key]) => !key.startsWith('!outbox!'))).toEqual(before)
    expect(own.length).toBe(3) // the marker and two entries
    // the application goes on using its database
    await app.put('b', 'after')
    expect(await app.get('user:1')).toEqual({ name: 'Ada' })

    const reopened = levelStore({ db: app, prefix: 'outbox', privateKey })
    expect(await reopened.open()).toEqual([{ ...entries[0]!, attempts: 4 }, entries[2]])
    await reopened.close()
  })

  it('works in a sublevel the application passes, under the default prefix', async () => {
    const services = app.sublevel('services')
    await services.put('config', 'x')
    const store = levelStore({ db: services, privateKey })
    await store.open()
    const entry = testEntry()
    await store.apply({ put: [entry] })
    await store.close()
    const keys = (await appKeys()).map(([key]) => key)
    expect(keys.filter((key) => key.startsWith('!services!!dntkit!')).length).toBe(2)
    expect(await services.get('config')).toBe('x')
    const again = levelStore({ db: services, privateKey })
    expect(await again.open()).toEqual([entry])
    await again.close()
  })

  it('two stores on one sublevel in this process: the second gets StoreLockedError; other prefixes coexist', async () => {
    const first = levelStore({ db: app, prefix: 'outbox', privateKey })
    await first.open()
    const second = levelStore({ db: app, prefix: 'outbox', privateKey })
    await expect(second.open()).rejects.toSatisfy((error) => StoreLockedError.isInstance(error))
    const other = levelStore({ db: app, prefix: 'outbox-2', privateKey })
    const entry = testEntry()
    await other.open()
    await other.apply({ put: [entry] })
    expect(await first.open()).toEqual([])
    await first.close()
    expect(await second.open()).toEqual([])
    await second.close()
    await other.close()
  })

  it('an application database closed underneath the store: apply is StoreClosedError', async () => {
    const store = levelStore({ db: app, prefix: 'outbox', privateKey })
    await store.open()
    await app.close()
    await expect(store.apply({ put: [testEntry()] })).rejects.toSatisfy((error) =>
      StoreClosedError.isInstance(error)
    )
    await store.close()
    await app.open()
  })

  it('a closed application database is a clear error', async () => {
    await app.close()
    const store = levelStore({ db: app, prefix: 'outbox', privateKey })
    await expect(store.open()).rejects.toThrow(
      /sublevel "outbox" of the given database cannot open: .*is closed/
    )
    await app.open()
    await store.open()
    await store.close()
  })
})

describe('inside another abstract-level implementation (memory-level, Uint8Array like browser-level)', () => {
  it('round-trips, detects a wrong key and a swapped value', async () => {
    const { MemoryLevel } = await import('memory-level')
    const memory = new MemoryLevel<string, string>({ storeEncoding: 'view' })
    await memory.open()
    await memory.put('app-key', 'app-value')
    const store = levelStore({ db: memory, privateKey })
    await store.open()
    const entries = [testEntry(), testEntry({ addrs: ['/ip4/10.0.0.1/tcp/1'] })]
    await store.apply({ put: entries })
    await store.close()
    const again = levelStore({ db: memory, privateKey })
    expect(await again.open()).toEqual(entries)
    await again.close()

    const { otherPrivateKey } = await import('./fixtures.js')
    const wrong = levelStore({ db: memory, privateKey: otherPrivateKey })
    await expect(wrong.open()).rejects.toSatisfy((error) => StoreKeyMismatchError.isInstance(error))

    const raw = memory.sublevel<Uint8Array, Uint8Array>('dntkit', {
      keyEncoding: 'view',
      valueEncoding: 'view'
    })
    const first = (await raw.get(Uint8Array.of(0x65, 0, 0, 0, 0, 0, 0, 0, 0))) as Uint8Array
    const second = (await raw.get(Uint8Array.of(0x65, 0, 0, 0, 0, 0, 0, 0, 1))) as Uint8Array
    expect(first).toBeInstanceOf(Uint8Array)
    await raw.put(Uint8Array.of(0x65, 0, 0, 0, 0, 0, 0, 0, 0), second)
    await raw.put(Uint8Array.of(0x65, 0, 0, 0, 0, 0, 0, 0, 1), first)
    const swapped = levelStore({ db: memory, privateKey })
    await expect(swapped.open()).rejects.toSatisfy((error) => StoreCorruptError.isInstance(error))
    expect(await memory.get('app-key')).toBe('app-value')
    await memory.close()
  })
})

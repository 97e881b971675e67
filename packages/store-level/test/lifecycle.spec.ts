import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { StoreClosedError, StoreLockedError } from '@dntkit/core'
import { testEntry } from '@dntkit/core/testing'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { levelStore } from '../src/index.js'
import { assertDistIsFresh, fixturePath } from './dist.js'
import { privateKey, rawContents, temporaryDirectory } from './fixtures.js'

let directory: { path: string; remove(): Promise<void> }
let location: string

beforeEach(async () => {
  directory = await temporaryDirectory()
  location = directory.path
})

afterEach(async () => {
  await directory.remove()
})

const isLocked = (error: unknown): boolean => StoreLockedError.isInstance(error)
const isClosed = (error: unknown): boolean => StoreClosedError.isInstance(error)

describe('options', () => {
  it('throws TypeError naming the option at fault', () => {
    expect(() => levelStore({ privateKey })).toThrow(/exactly one of `location`/)
    expect(() => levelStore({ location, db: {} as never, privateKey })).toThrow(/exactly one of/)
    expect(() => levelStore({ location: '', privateKey })).toThrow(/`location` must be/)
    expect(() => levelStore({ db: {} as never, privateKey })).toThrow(
      /`db` must be an abstract-level/
    )
    expect(() => levelStore({ location, privateKey, dir: 'x' } as never)).toThrow(
      'levelStore(): unknown option "dir"'
    )
    expect(() => levelStore({ location, privateKey, encryption: false })).toThrow(
      /together with a key/
    )
    expect(() => levelStore({ location, privateKey, prefix: 'a!b' })).toThrow(/`prefix`/)
    expect(() => levelStore({ location, privateKey, prefix: '' })).toThrow(/`prefix`/)
    expect(() => levelStore({ location, privateKey, quarantine: 1 as never })).toThrow(
      /`quarantine`/
    )
    expect(() => levelStore({ location, privateKey, readOnly: 'yes' as never })).toThrow(
      /`readOnly` must be a boolean/
    )
    expect(() => levelStore({ location, privateKey, onCorrupt: 'ignore' as never })).toThrow(
      /`onCorrupt` must be "throw" or "quarantine"/
    )
  })

  it('without a key, open() rejects with a TypeError saying where the key comes from', async () => {
    for (const store of [levelStore({ location }), levelStore({ location, encryption: true })]) {
      await expect(store.open()).rejects.toThrow(TypeError)
      await expect(store.open()).rejects.toThrow(/has no key: pass `privateKey`.*dnt\(\) service/)
    }
  })

  it('rejects a private key that is not 64 bytes when opening', async () => {
    const store = levelStore({ location, privateKey: new Uint8Array(32) })
    await expect(store.open()).rejects.toThrow(/64 raw bytes/)
  })
})

describe('lifecycle', () => {
  it('apply before open and after close is StoreClosedError; close twice is fine', async () => {
    const store = levelStore({ location, privateKey })
    await expect(store.apply({ put: [testEntry()] })).rejects.toSatisfy(isClosed)
    await store.open()
    const pending = store.apply({ put: [testEntry()] })
    const closing = store.close()
    const late = store.apply({ put: [testEntry()] })
    await pending
    await closing
    await expect(late).rejects.toSatisfy(isClosed)
    await store.close()
    expect(await store.open()).toHaveLength(1)
    await store.close()
  })

  it('open() on an open store reads the entries again', async () => {
    const store = levelStore({ location, privateKey })
    await store.open()
    const entry = testEntry()
    await store.apply({ put: [entry] })
    expect(await store.open()).toEqual([entry])
    await store.close()
  })

  it('a batch that changes nothing writes nothing', async () => {
    const store = levelStore({ location, privateKey })
    await store.open()
    await store.apply({ put: [testEntry()] })
    await store.close()
    const before = await rawContents(location)
    await store.open()
    await store.apply({ delete: ['unknown-id'] })
    await store.apply({})
    await store.close()
    expect(await rawContents(location)).toEqual(before)
  })

  it('deletes of a batch apply before its puts: an id in both is kept, put anew at the end', async () => {
    const store = levelStore({ location, privateKey })
    await store.open()
    const [kept, moved, gone] = [testEntry(), testEntry(), testEntry()]
    await store.apply({ put: [moved, kept, gone] })
    await store.apply({
      put: [
        { ...moved, attempts: 0 },
        { ...kept, attempts: 2 }
      ],
      delete: [moved.id, gone.id]
    })
    await store.close()
    expect(await store.open()).toEqual([
      { ...kept, attempts: 2 },
      { ...moved, attempts: 0 }
    ])
    await store.close()
  })
})

describe('locking', () => {
  it('a second store on the same location in this process gets StoreLockedError, keeping the cause', async () => {
    const first = levelStore({ location, privateKey })
    await first.open()
    const second = levelStore({ location, privateKey })
    const opening = second.open()
    await expect(opening).rejects.toSatisfy(isLocked)
    await expect(opening).rejects.toThrow(location)
    type LevelError = Error & { cause: { code: string; cause?: { code: string } } }
    const error = (await opening.then(
      () => undefined,
      (value: unknown) => value
    )) as LevelError
    expect([error.cause.code, error.cause.cause?.code]).toContain('LEVEL_LOCKED')
    // the first store is unaffected
    await first.apply({ put: [testEntry()] })
    await first.close()
    expect(await second.open()).toHaveLength(1)
    await second.close()
  })

  describe('across processes', () => {
    let child: ChildProcess | undefined

    beforeAll(assertDistIsFresh)

    afterEach(() => {
      if (child?.exitCode === null) child.kill('SIGKILL')
    })

    it('a database another process holds gives StoreLockedError and changes nothing', async () => {
      child = spawn(process.execPath, [fixturePath('hold-lock.mjs'), location], {
        stdio: ['ignore', 'pipe', 'inherit']
      })
      const [line] = (await once(child.stdout!, 'data')) as [Buffer]
      expect(line.toString()).toBe('ready\n')
      const store = levelStore({ location, encryption: false })
      await expect(store.open()).rejects.toSatisfy(isLocked)
      await expect(store.open()).rejects.toThrow(/another process/)
      child.kill('SIGKILL')
      await once(child, 'exit')
      const entries = await store.open()
      expect(entries.map((entry) => entry.id)).toEqual(['held'])
      await store.close()
    })
  })
})

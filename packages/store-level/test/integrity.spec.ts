import { type Entry, StoreCorruptError, StoreKeyMismatchError } from '@dntkit/core'
import { testEntry } from '@dntkit/core/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { levelStore } from '../src/index.js'
import {
  editRaw,
  otherPrivateKey,
  privateKey,
  rawContents,
  rawEntryKey,
  temporaryDirectory
} from './fixtures.js'

let directory: { path: string; remove(): Promise<void> }
let location: string

beforeEach(async () => {
  directory = await temporaryDirectory()
  location = directory.path
})

afterEach(async () => {
  await directory.remove()
})

/** Writes three entries with `privateKey` and closes the store. */
async function seed(): Promise<Entry[]> {
  const store = levelStore({ location, privateKey })
  await store.open()
  const entries = [testEntry(), testEntry({ meta: { user: 'b' } }), testEntry()]
  await store.apply({ put: entries })
  await store.close()
  return entries
}

async function reopen(options: { quarantine?: boolean } = {}): Promise<Entry[]> {
  const store = levelStore({ location, privateKey, ...options })
  try {
    return await store.open()
  } finally {
    await store.close()
  }
}

describe('wrong key', () => {
  it('rejects another private key with StoreKeyMismatchError and changes nothing', async () => {
    const entries = await seed()
    const before = await rawContents(location)
    const store = levelStore({ location, privateKey: otherPrivateKey })
    const opening = store.open()
    await expect(opening).rejects.toSatisfy((error) => StoreKeyMismatchError.isInstance(error))
    await expect(opening).rejects.toThrow(
      "the node's key differs from the one this store was written with"
    )
    await expect(opening).rejects.toThrow(location)
    expect(await rawContents(location)).toEqual(before)
    expect(await reopen()).toEqual(entries)
  })

  it('rejects a wrong raw store key the same way', async () => {
    await seed()
    const store = levelStore({ location, key: new Uint8Array(32).fill(1) })
    await expect(store.open()).rejects.toSatisfy((error) => StoreKeyMismatchError.isInstance(error))
  })

  it('a store key given directly opens what the derived key wrote only if they are the same key', async () => {
    const { deriveKeyBytes } = await import('@dntkit/core/plugin')
    const entries = await seed()
    const key = await deriveKeyBytes(privateKey, 'dntkit/store-level/v1')
    const store = levelStore({ location, key })
    expect(await store.open()).toEqual(entries)
    await store.close()
  })
})

describe('tampered values', () => {
  it('names the key of an altered value, deletes nothing', async () => {
    const entries = await seed()
    await editRaw(location, async (db) => {
      const key = rawEntryKey(1)
      const value = (await db.get(key)) as Uint8Array
      const altered = Uint8Array.from(value)
      altered[20] = (altered[20] as number) ^ 0x01
      await db.put(key, altered)
    })
    const before = await rawContents(location)
    const store = levelStore({ location, privateKey })
    const opening = store.open()
    await expect(opening).rejects.toSatisfy((error) => StoreCorruptError.isInstance(error))
    await expect(opening).rejects.toThrow(/key e:1 fails authentication/)
    expect(await rawContents(location)).toEqual(before)
    // the lock was released: the intact store still opens once repaired
    await editRaw(location, async (db) => {
      await db.del(rawEntryKey(1))
    })
    expect(await reopen()).toEqual([entries[0], entries[2]])
  })

  it('detects values swapped between two keys', async () => {
    await seed()
    await editRaw(location, async (db) => {
      const first = (await db.get(rawEntryKey(0))) as Uint8Array
      const second = (await db.get(rawEntryKey(1))) as Uint8Array
      await db.batch([
        { type: 'put', key: rawEntryKey(0), value: second },
        { type: 'put', key: rawEntryKey(1), value: first }
      ])
    })
    const before = await rawContents(location)
    await expect(reopen()).rejects.toThrow(/key e:0 fails authentication/)
    expect(await rawContents(location)).toEqual(before)
  })

  it('detects a value copied from another store written with the same key', async () => {
    await seed()
    const other = await temporaryDirectory()
    try {
      const store = levelStore({ location: other.path, privateKey })
      await store.open()
      await store.apply({ put: [testEntry()] })
      await store.close()
      let foreign: Uint8Array | undefined
      await editRaw(other.path, async (db) => {
        foreign = (await db.get(rawEntryKey(0))) as Uint8Array
      })
      await editRaw(location, async (db) => {
        await db.put(rawEntryKey(0), foreign as Uint8Array)
      })
      await expect(reopen()).rejects.toSatisfy((error) => StoreCorruptError.isInstance(error))
    } finally {
      await other.remove()
    }
  })

  it('refuses entries without a marker record', async () => {
    await seed()
    await editRaw(location, async (db) => {
      await db.del(new TextEncoder().encode('!dntkit!meta'))
    })
    await expect(reopen()).rejects.toThrow(/key e:0 but no marker record/)
  })

  it('quarantine: true moves bad values aside, loads the others, and keeps order afterwards', async () => {
    const entries = await seed()
    let original: Uint8Array | undefined
    await editRaw(location, async (db) => {
      original = (await db.get(rawEntryKey(2))) as Uint8Array
      await db.put(rawEntryKey(2), Uint8Array.from([1, 2, 3]))
      await db.put(rawEntryKey(0), original)
    })
    const store = levelStore({ location, privateKey, quarantine: true })
    expect(await store.open()).toEqual([entries[1]])
    const quarantined = await store.quarantined()
    expect(quarantined.map((item) => item.key)).toEqual(['e:0', 'e:2'])
    expect(quarantined[0]?.value).toEqual(Uint8Array.from(original as Uint8Array))
    expect(quarantined[1]?.value).toEqual(Uint8Array.from([1, 2, 3]))
    // new entries go after everything ever stored, quarantined keys included
    const later = testEntry()
    await store.apply({ put: [later] })
    await store.close()
    const raw = await rawContents(location)
    expect(raw.has(Buffer.from(rawEntryKey(3)).toString('hex'))).toBe(true)
    expect(raw.has(Buffer.from(rawEntryKey(0)).toString('hex'))).toBe(false)
    // a second open finds nothing more to move
    const again = levelStore({ location, privateKey, quarantine: true })
    expect(await again.open()).toEqual([entries[1], later])
    expect((await again.quarantined()).length).toBe(2)
    await again.close()
    // and without quarantine it opens cleanly now
    expect(await reopen()).toEqual([entries[1], later])
  })
})

describe('encryption: false', () => {
  it('round-trips entries as plaintext', async () => {
    const payload = new TextEncoder().encode('plain payload, visible on disk')
    const entries = [testEntry({ payload }), testEntry({ addrs: ['/ip4/127.0.0.1/tcp/1'] })]
    const store = levelStore({ location, encryption: false })
    expect(await store.open()).toEqual([])
    await store.apply({ put: entries })
    await store.apply({ put: [{ ...entries[0]!, attempts: 3 }] })
    await store.close()
    const raw = Array.from((await rawContents(location)).values()).join('')
    expect(raw.includes(Buffer.from(payload).toString('hex'))).toBe(true)
    const reopened = levelStore({ location, encryption: false })
    expect(await reopened.open()).toEqual([{ ...entries[0]!, attempts: 3 }, entries[1]])
    await reopened.close()
  })

  it('a plaintext store opened with a key, or the reverse, is StoreKeyMismatchError', async () => {
    const plain = levelStore({ location, encryption: false })
    await plain.open()
    await plain.close()
    const withKey = levelStore({ location, privateKey })
    await expect(withKey.open()).rejects.toThrow(/without encryption/)
    await expect(withKey.open()).rejects.toSatisfy((error) =>
      StoreKeyMismatchError.isInstance(error)
    )

    const other = await temporaryDirectory()
    try {
      const encrypted = levelStore({ location: other.path, privateKey })
      await encrypted.open()
      await encrypted.close()
      const withoutKey = levelStore({ location: other.path, encryption: false })
      await expect(withoutKey.open()).rejects.toThrow(/is encrypted/)
      await expect(withoutKey.open()).rejects.toSatisfy((error) =>
        StoreKeyMismatchError.isInstance(error)
      )
    } finally {
      await other.remove()
    }
  })

  it('values are sealed by default: the payload does not appear on disk', async () => {
    const payload = new TextEncoder().encode('secret payload that must not appear')
    const store = levelStore({ location, privateKey })
    await store.open()
    await store.apply({ put: [testEntry({ payload })] })
    await store.close()
    const raw = Array.from((await rawContents(location)).values()).join('')
    expect(raw.includes(Buffer.from(payload).toString('hex'))).toBe(false)
  })
})

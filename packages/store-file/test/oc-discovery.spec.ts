import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Entry, StoreCorruptError, StoreKeyMismatchError } from '@dntkit/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ocDiscoveryFileStore, repairOcDiscoveryStore } from '../src/index.js'
import { entry, type TemporaryDirectory, temporaryDirectory, testPrivateKey } from './fixtures.js'
import { GO_ELEMENTS, readGoCache, writeGoCache } from './oc-discovery-fixture.js'

let directory: TemporaryDirectory
let file: string
const privateKey = testPrivateKey(5)

beforeEach(async () => {
  directory = await temporaryDirectory()
  file = join(directory.path, 'dnt_cache.bin')
})

afterEach(() => directory.remove())

async function withStore<T>(
  use: (store: ReturnType<typeof ocDiscoveryFileStore>, entries: Entry[]) => Promise<T>
): Promise<T> {
  const store = ocDiscoveryFileStore({ file, privateKey })
  const entries = await store.open()
  try {
    return await use(store, entries)
  } finally {
    await store.close()
  }
}

const opened = (): Promise<Entry[]> => withStore(async (_, entries) => entries)

/** What the Go elements read as (ids are derived, checked separately). */
const EXPECTED: Omit<Entry, 'id'>[] = [
  {
    peer: '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp',
    addrs: ['/ip4/10.0.0.5/tcp/4001', '/ip4/10.0.0.5/udp/4001/quic-v1'],
    protocol: '/opencloud/resource/create/1.0',
    payload: new TextEncoder().encode('{"id":"res-1","name":"A \\u0026 B"}'),
    meta: { did: 'did:oc:alice', user: 'alice', dataType: 3 },
    level: 'critical',
    attempts: 1,
    createdAt: Date.UTC(2025, 2, 14, 8, 26, 53, 589),
    nextAttemptAt: Date.UTC(2025, 2, 14, 8, 26, 53, 589)
  },
  {
    peer: '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA',
    protocol: '/opencloud/resource/delete/1.0',
    payload: new Uint8Array(0),
    meta: { did: 'did:oc:bob <admin>', user: '' },
    level: 'critical',
    attempts: 3,
    createdAt: Date.UTC(2025, 2, 14, 8, 0, 0),
    nextAttemptAt: Date.UTC(2025, 2, 14, 8, 0, 0)
  },
  {
    peer: '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp',
    addrs: ['/dns4/node.example/tcp/443/wss'],
    protocol: '/opencloud/resource/update/1.0',
    payload: Uint8Array.from([0, 1, 2, 253, 254, 255]),
    meta: { did: 'did:oc:carol', user: 'carol', dataType: 0 },
    level: 'critical',
    attempts: 1,
    createdAt: Date.UTC(2025, 0, 1, 5, 29, 59, 500),
    nextAttemptAt: Date.UTC(2025, 0, 1, 5, 29, 59, 500)
  }
]

describe("the Go original's dnt_cache.bin", () => {
  it('reads a file written with node:crypto in the Go format', async () => {
    await writeGoCache(file, privateKey, `[${GO_ELEMENTS.join(',')}]`)
    const entries = await opened()
    expect(entries.map(({ id: _, ...rest }) => rest)).toEqual(EXPECTED)
    // ids are derived from the elements: the same on every open, distinct
    for (const item of entries) expect(item.id).toMatch(/^oc-[0-9a-f]{32}$/)
    expect(new Set(entries.map((item) => item.id)).size).toBe(3)
    expect((await opened()).map((item) => item.id)).toEqual(entries.map((item) => item.id))
  })

  it('writes unchanged elements back byte for byte, unknown fields included', async () => {
    await writeGoCache(file, privateKey, `[${GO_ELEMENTS.join(',')}]`)
    const added = entry('new-1')
    await withStore((store) => store.apply({ put: [added] }))
    const text = await readGoCache(file, privateKey)
    expect(text.startsWith(`[${GO_ELEMENTS.join(',')},{`)).toBe(true)
    expect(JSON.parse(text)).toHaveLength(4)
  })

  it('writes a new entry exactly as Go would, plus the dntkit field', async () => {
    const item = entry('x-1', {
      peer: '12D3KooWC',
      addrs: ['/ip4/1.2.3.4/tcp/1'],
      protocol: '/p/1',
      payload: new TextEncoder().encode('hi'),
      meta: { did: 'd<&>', user: 'u\u2028', dataType: 2, extra: true },
      attempts: 3,
      createdAt: Date.UTC(2025, 0, 2, 3, 4, 5, 60),
      nextAttemptAt: Date.UTC(2025, 0, 2, 3, 4, 20, 0),
      lastError: 'PeerUnreachableError: dial refused'
    })
    const plain = entry('x-2', {
      payload: new Uint8Array(0),
      createdAt: Date.UTC(2025, 0, 2),
      meta: undefined
    })
    await withStore((store) => store.apply({ put: [item, plain] }))
    const text = await readGoCache(file, privateKey)
    const goPart =
      '{"did":"d\\u003c\\u0026\\u003e","addr":{"ID":"12D3KooWC","Addrs":["/ip4/1.2.3.4/tcp/1"]},"dt":2,"user":"u\\u2028",' +
      '"payload":"aGk=","proto":"/p/1","retries":2,"added_at":"2025-01-02T03:04:05.06Z","dntkit":{'
    expect(text.startsWith(`[${goPart}`)).toBe(true)
    const [first, second] = JSON.parse(text) as Record<string, unknown>[]
    expect(first?.dntkit).toEqual({
      id: 'x-1',
      level: 'critical',
      attempts: 3,
      nextAttemptAt: item.nextAttemptAt,
      meta: item.meta,
      lastError: item.lastError
    })
    // no addresses: go-libp2p's AddrInfo writes an empty list; no dataType: "dt" omitted
    expect(
      JSON.stringify(second).startsWith(
        '{"did":"","addr":{"ID":"12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp","Addrs":[]},"user":"","payload":"","proto":"/app/create/1.0.0","retries":0,"added_at":"2025-01-02T00:00:00Z"'
      )
    ).toBe(true)
    expect(await opened()).toEqual([item, plain])
  })

  it('a changed element keeps its unknown fields and its added_at to the nanosecond', async () => {
    await writeGoCache(file, privateKey, `[${GO_ELEMENTS.join(',')}]`)
    const [alice, bob, carol] = await opened()
    const retried = { ...(carol as Entry), attempts: 4, nextAttemptAt: 1_800_000_000_000 }
    const moved = { ...(alice as Entry), attempts: 2 }
    await withStore((store) => store.apply({ put: [retried, moved] }))
    const elements = JSON.parse(await readGoCache(file, privateKey)) as Record<string, unknown>[]
    expect(elements[0]?.added_at).toBe('2025-03-14T09:26:53.589793238+01:00')
    expect(elements[0]?.retries).toBe(1)
    expect(elements[2]?.added_at).toBe('2024-12-31T23:59:59.5-05:30')
    expect(elements[2]?.retries).toBe(3)
    const text = await readGoCache(file, privateKey)
    expect(text).toContain('"future_field":{"nested":[1,2.50,"x"]},"dntkit":{')
    expect(text).toContain(GO_ELEMENTS[1])
    expect(await opened()).toEqual([moved, bob, retried])
  })

  it('an empty cache is written as null, as Go writes a nil slice; null reads as empty', async () => {
    await withStore(async (store) => {
      await store.apply({ put: [entry('a')] })
      await store.apply({ delete: ['a'] })
    })
    expect(await readGoCache(file, privateKey)).toBe('null')
    expect(await opened()).toEqual([])
    expect((await stat(file)).mode & 0o777).toBe(0o600)
  })

  it('accepts null Addrs and null payload, and tells identical elements apart the same way every time', async () => {
    const element =
      '{"did":"d","addr":{"ID":"12D3KooWC","Addrs":null},"user":"u","payload":null,"proto":"/p/1","retries":0,"added_at":"2025-01-01T00:00:00Z"}'
    await writeGoCache(file, privateKey, `[${element},${element}]`)
    const entries = await opened()
    expect(entries).toHaveLength(2)
    expect(entries[0]?.addrs).toBeUndefined()
    expect(entries[0]?.payload).toEqual(new Uint8Array(0))
    expect(entries[1]?.id).toBe(`${entries[0]?.id}-2`)
    // deleting the first keeps the second's id: it is written with an explicit id
    await withStore((store) => store.apply({ delete: [entries[0]?.id as string] }))
    expect((await opened()).map((item) => item.id)).toEqual([entries[1]?.id])
  })

  it('a wrong key or a corrupt file is an error and the file is left as it was', async () => {
    await writeGoCache(file, privateKey, `[${GO_ELEMENTS[0]}]`)
    const original = await readFile(file)
    const wrong = ocDiscoveryFileStore({ file, privateKey: testPrivateKey(6) })
    await expect(wrong.open()).rejects.toSatisfy(
      (error: unknown) =>
        StoreKeyMismatchError.isInstance(error) && (error as Error).message.includes(file)
    )
    const damaged = Buffer.from(original)
    damaged[20] = (damaged[20] as number) ^ 1
    await writeFile(file, damaged)
    await expect(opened()).rejects.toSatisfy(
      StoreKeyMismatchError.isInstance.bind(StoreKeyMismatchError)
    )
    await writeFile(file, original.subarray(0, 20))
    await expect(opened()).rejects.toSatisfy(StoreCorruptError.isInstance.bind(StoreCorruptError))
    for (const content of [
      '{"not":"an array"}',
      '[{"did":5}]',
      '[{"added_at":"yesterday"}]',
      'not json'
    ]) {
      await writeGoCache(file, privateKey, content)
      const before = await readFile(file)
      await expect(opened(), content).rejects.toSatisfy(
        StoreCorruptError.isInstance.bind(StoreCorruptError)
      )
      expect((await readFile(file)).equals(before)).toBe(true)
    }
  })
})

describe('damage in the Go file', () => {
  it("an element that does not decode: StoreCorruptError naming it, or (onCorrupt: 'quarantine') the others", async () => {
    const elements = [GO_ELEMENTS[0], '{"did":5}', GO_ELEMENTS[2]]
    await writeGoCache(file, privateKey, `[${elements.join(',')}]`)
    const damaged = await readFile(file)
    const error = await ocDiscoveryFileStore({ file, privateKey })
      .open()
      .catch((caught: unknown) => caught)
    expect(StoreCorruptError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ file, record: 1, readableBefore: 1, readableAfter: 1 })
    expect((error as Error).message).toMatch(/element 1 is invalid/)
    expect(await readFile(file)).toEqual(damaged)

    // read-only: the two that decode, nothing moved or written
    const warnings: string[] = []
    const reader = ocDiscoveryFileStore({
      file,
      privateKey,
      readOnly: true,
      onCorrupt: 'quarantine',
      onWarning: (warning) => warnings.push(warning.code)
    })
    expect(await reader.open()).toHaveLength(2)
    await reader.close()
    expect(await readFile(file)).toEqual(damaged)
    expect(warnings).toEqual(['quarantined'])

    const writer = ocDiscoveryFileStore({ file, privateKey, onCorrupt: 'quarantine' })
    const kept = await writer.open()
    expect(kept.map((item) => item.protocol)).toEqual([
      EXPECTED[0]?.protocol,
      EXPECTED[2]?.protocol
    ])
    await writer.close()
    const copies = (await readdir(directory.path)).filter((name) =>
      name.startsWith('dnt_cache.bin.corrupt-')
    )
    expect(copies).toHaveLength(1)
    expect(await readFile(join(directory.path, copies[0] as string))).toEqual(damaged)
    // the Go original reads what is left: two elements, byte for byte as they were
    expect(await readGoCache(file, privateKey)).toBe(`[${GO_ELEMENTS[0]},${GO_ELEMENTS[2]}]`)
  })
})

describe('repairOcDiscoveryStore', () => {
  it('keeps the elements that decode, the file kept aside; a file that does not decrypt is refused', async () => {
    const good = ocDiscoveryFileStore({ file, privateKey })
    await good.open()
    await good.apply({ put: [entry('a'), entry('b')] })
    await good.close()
    const json = JSON.parse(await readGoCache(file, privateKey)) as unknown[]
    await writeGoCache(file, privateKey, JSON.stringify([json[0], { did: 5 }, json[1]]))
    const damaged = await readFile(file)
    await expect(ocDiscoveryFileStore({ file, privateKey }).open()).rejects.toSatisfy(
      (error: unknown) =>
        StoreCorruptError.isInstance(error) &&
        (error as StoreCorruptError).record === 1 &&
        (error as StoreCorruptError).readableBefore === 1 &&
        (error as StoreCorruptError).readableAfter === 1
    )
    const report = await repairOcDiscoveryStore({ file, privateKey })
    expect(report).toMatchObject({ repaired: true, entries: 2 })
    expect(report.files[0]?.lost.map((loss) => loss.record)).toEqual([1])
    expect(await readFile(report.files[0]?.movedTo as string)).toEqual(damaged)
    const reopened = ocDiscoveryFileStore({ file, privateKey })
    expect((await reopened.open()).map((item) => item.id)).toEqual(['a', 'b'])
    await reopened.close()

    const before = await readFile(file)
    await expect(repairOcDiscoveryStore({ file, privateKey: testPrivateKey(9) })).rejects.toSatisfy(
      (error: unknown) => StoreKeyMismatchError.isInstance(error)
    )
    expect(await readFile(file)).toEqual(before)
  })
})

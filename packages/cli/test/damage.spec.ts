/**
 * Damaged and healthy stores end to end: every read-only command (inspect,
 * stats, dead, export) with the SHA-256, size and mtime of every file checked
 * before and after; damage exits 1 with one line saying where and how much
 * still reads; `dnt repair` keeps what authenticates; times in --json are
 * whole milliseconds.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parsePrivateKey } from '@dntkit/core'
import { ocDiscoveryFileStore } from '@dntkit/store-file'
import { levelStore } from '@dntkit/store-level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEAD_LETTER_ADVICE } from '../src/format.js'
import {
  damagedGoFile,
  damagedLevelStore,
  entries,
  fileStoreWith,
  flip,
  frames
} from './damage-fixtures.js'
import { dnt, keygen, type Result, snapshot, temporaryDirectory } from './helpers.js'

const directory = temporaryDirectory()
const path = (name: string): string => join(directory.path, name)
const key = path('node.key')
let privateKey: Uint8Array

const READ_ONLY = [
  ['inspect'],
  ['inspect', '--json'],
  ['stats', '--json'],
  ['dead', '--json'],
  ['export']
] as const

/**
 * Runs every read-only command on `uri`, all at once (read-only opens never
 * wait for each other); the files under `where` never change.
 */
async function readEverything(uri: string, where: string): Promise<Result[]> {
  const before = snapshot(where)
  const results = await Promise.all(
    READ_ONLY.map((command) => dnt([...command, '--key', key, '--store', uri]))
  )
  expect(
    snapshot(where),
    `${READ_ONLY.map((command) => command[0]).join(', ')} ${uri} changed a file`
  ).toEqual(before)
  return results
}

beforeAll(async () => {
  await keygen(key)
  privateKey = parsePrivateKey(readFileSync(key))
})

afterAll(() => directory.remove())

describe('read-only commands never write', () => {
  it('healthy stores of every kind: exit 0, every file the same, times in whole milliseconds', async () => {
    const stored = entries('healthy', 4)
    const file = await fileStoreWith(
      path('healthy-file'),
      privateKey,
      [stored.slice(0, 2), stored.slice(2)],
      true
    )
    const level = levelStore({ location: path('healthy-level'), privateKey })
    await level.open()
    await level.apply({ put: stored })
    await level.close()
    mkdirSync(path('healthy-go'))
    const go = ocDiscoveryFileStore({ file: path('healthy-go/dnt_cache.bin'), privateKey })
    await go.open()
    await go.apply({ put: stored })
    await go.close()
    for (const [uri, where] of [
      [`file:${file}`, file],
      [`level:${path('healthy-level')}`, path('healthy-level')],
      [`oc-discovery:${path('healthy-go/dnt_cache.bin')}`, path('healthy-go')]
    ] as const) {
      const results = await readEverything(uri, where)
      for (const result of results) expect(result.code, `${uri}: ${result.stderr}`).toBe(0)
      const listed = JSON.parse(results[1]?.stdout as string) as Array<Record<string, unknown>>
      expect(listed.map((item) => item.id).sort(), uri).toEqual(stored.map((item) => item.id))
      for (const item of listed) {
        expect(Number.isInteger(item.createdAt), uri).toBe(true)
        expect(Number.isInteger(item.nextAttemptAt), uri).toBe(true)
        expect(item.nextAttemptAtIso, uri).toBe(
          new Date(Math.round(item.nextAttemptAt as number)).toISOString()
        )
      }
      const dead = JSON.parse(results[3]?.stdout as string) as Array<{
        deadLetter: { at: number; atIso: string }
      }>
      expect(
        dead.map((item) => item.deadLetter),
        uri
      ).toEqual([
        {
          reason: 'exhausted',
          at: 1_700_000_100_001,
          atIso: '2023-11-14T22:15:00.001Z',
          advice: DEAD_LETTER_ADVICE.exhausted
        }
      ])
      const stats = JSON.parse(results[2]?.stdout as string) as { oldestAge: number }
      expect(Number.isInteger(stats.oldestAge), uri).toBe(true)
      const exported = (results[4] as Result).stdout.trim().split('\n')
      expect(
        exported.map((line) => JSON.parse(line)),
        uri
      ).toEqual(
        // the same objects as inspect --json, in the store's order
        listed.sort(
          (left, right) =>
            stored.findIndex((item) => item.id === left.id) -
            stored.findIndex((item) => item.id === right.id)
        )
      )
    }
  })

  it('damage in a journal, a snapshot, a Go file or a level value: exit 1 naming it, nothing changed', async () => {
    const stored = entries('damaged', 6)
    const batches = stored.map((item) => [item])
    const journalStore = await fileStoreWith(path('damaged-journal'), privateKey, batches)
    const journal = path('damaged-journal/journal-0000000000000001.dnt')
    flip(journal, (frames(journal)[3] as { offset: number }).offset + 30)
    const snapshotStore = await fileStoreWith(path('damaged-snapshot'), privateKey, batches, true)
    const snapshotFile = path('damaged-snapshot/snapshot-0000000000000002.dnt')
    flip(snapshotFile, (frames(snapshotFile)[1] as { offset: number }).offset + 30)
    await damagedLevelStore(path('damaged-level'), privateKey, stored)
    // the Go file: it decrypts, but its second element is not an entry
    mkdirSync(path('damaged-go'))
    const goFile = path('damaged-go/dnt_cache.bin')
    await damagedGoFile(goFile, privateKey, stored.slice(0, 3))
    const cases = [
      [
        `file:${journalStore}`,
        journalStore,
        /journal-0000000000000001\.dnt: record 3 at offset \d+/,
        /2 records of the file authenticate before the damage and 3 after it/
      ],
      [
        `file:${snapshotStore}`,
        snapshotStore,
        /snapshot-0000000000000002\.dnt: record 1 at offset \d+/,
        /0 records of the file authenticate before the damage and 1 after it/
      ],
      [
        `oc-discovery:${goFile}`,
        path('damaged-go'),
        /dnt_cache\.bin: element 1 is invalid: "did" must be a string/,
        /1 of 4 elements do not read; 3 do/
      ],
      [
        `level:${path('damaged-level')}`,
        path('damaged-level'),
        /key e:2 fails authentication/,
        /2 values read before it and 3 after it/
      ]
    ] as const
    for (const [uri, where, place, readable] of cases) {
      for (const result of await readEverything(uri, where)) {
        expect(result.code, `${uri}: ${result.stderr}`).toBe(1)
        const lines = result.stderr.split('\n').filter((line) => line !== '')
        expect(lines, uri).toHaveLength(1)
        expect(lines[0]).toMatch(/StoreCorruptError \(DNT_STORE_CORRUPT\)/)
        expect(lines[0]).toMatch(place)
        expect(lines[0]).toMatch(readable)
        expect(lines[0]).toContain(`dnt repair --key FILE --store ${uri}`)
        expect(result.stdout).toBe('')
      }
    }
  })

  it('a torn tail: read-only commands list every complete record, warn, and leave the tail in place', async () => {
    const stored = entries('torn', 3)
    const store = await fileStoreWith(
      path('torn'),
      privateKey,
      stored.map((item) => [item])
    )
    const journal = path('torn/journal-0000000000000001.dnt')
    const bytes = readFileSync(journal)
    writeFileSync(journal, bytes.subarray(0, bytes.byteLength - 9))
    const results = await readEverything(`file:${store}`, store)
    for (const result of results) {
      expect(result.code, result.stderr).toBe(0)
      expect(result.stderr).toMatch(
        /warning: .*journal-0000000000000001\.dnt: the last \d+ bytes from offset \d+ are a torn record/
      )
    }
    expect((JSON.parse(results[1]?.stdout as string) as unknown[]).length).toBe(2)
  })
})

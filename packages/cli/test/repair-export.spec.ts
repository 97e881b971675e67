/** `dnt repair` and `dnt export --out` end to end, on stores damaged byte by byte. */
import { mkdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parsePrivateKey } from '@dntkit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  damagedGoFile,
  damagedLevelStore,
  entries,
  fileStoreWith,
  flip,
  frames
} from './damage-fixtures.js'
import { dnt, keygen, snapshot, temporaryDirectory } from './helpers.js'

const directory = temporaryDirectory()
const path = (name: string): string => join(directory.path, name)
const key = path('node.key')
let privateKey: Uint8Array

beforeAll(async () => {
  await keygen(key)
  privateKey = parsePrivateKey(readFileSync(key))
})

afterAll(() => directory.remove())

describe('dnt repair', () => {
  it('keeps the records before and after the damage, moves the file aside; a second run finds nothing', async () => {
    const stored = entries('repair', 6)
    const store = await fileStoreWith(
      path('repair'),
      privateKey,
      stored.map((item) => [item])
    )
    const journal = path('repair/journal-0000000000000001.dnt')
    flip(journal, (frames(journal)[3] as { offset: number }).offset + 30)
    const damaged = readFileSync(journal)
    const repaired = await dnt(['repair', '--key', key, '--store', `file:${store}`])
    expect(repaired.code, repaired.stderr).toBe(0)
    expect(repaired.stdout).toMatch(/repaired file:.* it holds 5 entries that still authenticate/)
    expect(repaired.stdout).toMatch(
      /journal-0000000000000001\.dnt: kept 5 records; its bytes are kept in (\S+)/
    )
    expect(repaired.stdout).toMatch(
      /could not keep record 3 at offset \d+ \(\d+ bytes\): 1 record\(s\) do not authenticate/
    )
    const movedTo = /kept in (\S+)/.exec(repaired.stdout)?.[1] as string
    expect(readFileSync(movedTo)).toEqual(damaged)
    expect(statSync(movedTo).mode & 0o777).toBe(0o600)
    const listed = await dnt(['inspect', '--key', key, '--store', `file:${store}`, '--json'])
    expect(listed.code, listed.stderr).toBe(0)
    expect(
      (JSON.parse(listed.stdout) as Array<{ id: string }>).map((item) => item.id).sort()
    ).toEqual(['repair-0', 'repair-1', 'repair-3', 'repair-4', 'repair-5'])
    const again = await dnt(['repair', '--key', key, '--store', `file:${store}`, '--json'])
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ repaired: false, entries: 5, files: [] })
  })

  it('level: sets the value that fails authentication aside (q:), keeps the others; a second run finds nothing', async () => {
    const location = path('repair-level')
    await damagedLevelStore(location, privateKey, entries('level', 6))
    const uri = `level:${location}`
    const repaired = await dnt(['repair', '--key', key, '--store', uri])
    expect(repaired.code, repaired.stderr).toBe(0)
    expect(repaired.stdout.trim().split('\n')).toEqual([
      `repaired ${uri}: it holds 5 entries that still authenticate`,
      `  level store at "${location}" (sublevel "dntkit"): kept 5 values`,
      '    could not keep key e:2: fails authentication (altered, or moved from another key or store); kept under q:e:2'
    ])
    const listed = await dnt(['inspect', '--key', key, '--store', uri, '--json'])
    expect(listed.code, listed.stderr).toBe(0)
    expect(
      (JSON.parse(listed.stdout) as Array<{ id: string }>).map((item) => item.id).sort()
    ).toEqual(['level-0', 'level-1', 'level-3', 'level-4', 'level-5'])
    const again = await dnt(['repair', '--key', key, '--store', uri, '--json'])
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ repaired: false, entries: 5, files: [] })
  })

  it('oc-discovery: rewrites the file with every element that decodes, the old bytes kept aside 0600', async () => {
    mkdirSync(path('repair-go'))
    const file = path('repair-go/dnt_cache.bin')
    await damagedGoFile(file, privateKey, entries('go', 4).slice(0, 3))
    const damaged = readFileSync(file)
    const uri = `oc-discovery:${file}`
    const repaired = await dnt(['repair', '--key', key, '--store', uri])
    expect(repaired.code, repaired.stderr).toBe(0)
    const lines = repaired.stdout.trim().split('\n')
    expect(lines[0]).toBe(`repaired ${uri}: it holds 3 entries that still authenticate`)
    expect(lines[1]).toMatch(
      /^ {2}\S+dnt_cache\.bin: kept 3 elements; its bytes are kept in (\S+)$/
    )
    expect(lines[2]).toBe('    could not keep record 1: element is invalid: "did" must be a string')
    const movedTo = /kept in (\S+)/.exec(lines[1] as string)?.[1] as string
    expect(readFileSync(movedTo)).toEqual(damaged)
    expect(statSync(movedTo).mode & 0o777).toBe(0o600)
    const listed = await dnt(['inspect', '--key', key, '--store', uri, '--json'])
    expect(listed.code, listed.stderr).toBe(0)
    expect((JSON.parse(listed.stdout) as Array<{ id: string }>).map((item) => item.id)).toEqual([
      'go-0',
      'go-1',
      'go-2'
    ])
    const again = await dnt(['repair', '--key', key, '--store', uri, '--json'])
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ repaired: false, entries: 3, files: [] })
  })

  it('input errors exit 2, a wrong key exits 1, and neither changes a file', async () => {
    const store = await fileStoreWith(path('repair-refused'), privateKey, [entries('refused', 2)])
    const journal = path('repair-refused/journal-0000000000000001.dnt')
    flip(journal, (frames(journal)[1] as { offset: number }).offset + 30)
    const before = snapshot(store)
    const other = path('other.key')
    await keygen(other)
    const wrong = await dnt(['repair', '--key', other, '--store', `file:${store}`])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/StoreKeyMismatchError/)
    expect((await dnt(['repair', '--key', key, '--store', 'memory:'])).code).toBe(2)
    expect((await dnt(['repair', '--key', key, '--store', `file:${path('nothing')}`])).code).toBe(2)
    expect(snapshot(store)).toEqual(before)
  })
})

describe('dnt export --out', () => {
  it('writes a new 0600 file, never over an existing one', async () => {
    const stored = entries('export', 3)
    const store = await fileStoreWith(path('export'), privateKey, [stored])
    const out = path('export.jsonl')
    const written = await dnt(['export', '--key', key, '--store', `file:${store}`, '--out', out])
    expect(written.code, written.stderr).toBe(0)
    expect(written.stderr).toMatch(/exported 3 entries \(1 dead-lettered\)/)
    expect(statSync(out).mode & 0o777).toBe(0o600)
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(lines.map((line) => line.id)).toEqual(stored.map((item) => item.id))
    const content = readFileSync(out)
    const refused = await dnt(['export', '--key', key, '--store', `file:${store}`, '--out', out])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/already exists; nothing was written/)
    expect(readFileSync(out)).toEqual(content)
  })
})

/**
 * Fuzzing the reader of the Go original's dnt_cache.bin
 * (`ocDiscoveryFileStore`): (1) a real file with bytes changed, cut or added
 * opens only when nothing changed, else fails with `StoreKeyMismatchError` /
 * `StoreCorruptError`, the file untouched; (2) arbitrary JSON, near the Go
 * schema or not, encrypted correctly, opens to valid entries that survive a
 * write and a reopen, or fails with `StoreCorruptError`. Never another
 * exception, never a hang. `FUZZ_RUNS` sets the number of runs (default 400).
 */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Entry, StoreCorruptError, StoreKeyMismatchError } from '@dntkit/core'
import { validateEntry } from '@dntkit/core/plugin'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ocDiscoveryFileStore } from '../src/index.js'
import { entry, type TemporaryDirectory, temporaryDirectory, testPrivateKey } from './fixtures.js'
import { GO_ELEMENTS, writeGoCache } from './oc-discovery-fixture.js'

const RUNS = Number(process.env.FUZZ_RUNS ?? 400)
/** Only a bound against a hang: never a speed the test relies on. */
const TIMEOUT = 30_000
const privateKey = testPrivateKey(11)

let directory: TemporaryDirectory
let original: Buffer
let run = 0

beforeAll(async () => {
  directory = await temporaryDirectory('dntkit-fuzz-oc-')
  const file = join(directory.path, 'original.bin')
  await writeGoCache(file, privateKey, `[${GO_ELEMENTS.join(',')}]`)
  original = await readFile(file)
})

afterAll(() => directory.remove())

async function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} hung for ${TIMEOUT} ms`)), TIMEOUT)
      })
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** Opens `file`: the entries, or the typed error (anything else is thrown on). */
async function openTyped(
  file: string,
  allowed: Array<{ isInstance(value: unknown): boolean }>
): Promise<Entry[] | Error> {
  const store = ocDiscoveryFileStore({ file, privateKey })
  try {
    const entries = await withTimeout(store.open(), 'open()')
    await store.close()
    return entries
  } catch (error) {
    if (!allowed.some((type) => type.isInstance(error))) throw error
    expect((error as Error).message).toContain(file)
    return error as Error
  }
}

type Damage =
  | { kind: 'flip'; where: number; bit: number }
  | { kind: 'truncate'; where: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'overwrite'; where: number; bytes: Uint8Array }
  | { kind: 'random'; bytes: Uint8Array }

const where = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true })
const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), where, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), where }),
  fc.record({
    kind: fc.constant('append' as const),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 32 })
  }),
  fc.record({
    kind: fc.constant('overwrite' as const),
    where,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 32 })
  }),
  fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 200 }) })
)

function damaged(bytes: Buffer, change: Damage): Buffer {
  const at = 'where' in change ? Math.floor(change.where * bytes.byteLength) : 0
  switch (change.kind) {
    case 'flip': {
      const copy = Buffer.from(bytes)
      copy[at] = (copy[at] as number) ^ (1 << change.bit)
      return copy
    }
    case 'truncate':
      return bytes.subarray(0, at)
    case 'append':
      return Buffer.concat([bytes, change.bytes])
    case 'overwrite': {
      const copy = Buffer.from(bytes)
      copy.set(change.bytes.subarray(0, copy.byteLength - at), at)
      return copy
    }
    default:
      return Buffer.from(change.bytes)
  }
}

/** Values of any JSON type, to put where the schema wants something else. */
const anything = fc.jsonValue({ maxDepth: 2 })
const peerIds = fc.constantFrom(
  '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp',
  '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA',
  'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N',
  ''
)
const times = fc.oneof(
  fc.constantFrom(
    '2025-03-14T09:26:53.589793238+01:00',
    '2025-03-14T08:00:00Z',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:59:59.999999999-23:59',
    '2025-02-30T00:00:00Z',
    '2025-03-14 08:00:00'
  ),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.string()
)
/** Go's field names, sometimes in another case (Go matches them case-insensitively). */
const key = (name: string) =>
  fc.constantFrom(name, name.toUpperCase(), name[0]!.toUpperCase() + name.slice(1))
const field = <T>(name: string, value: fc.Arbitrary<T>) =>
  fc.option(fc.tuple(key(name), fc.oneof({ weight: 4, arbitrary: value }, anything)), {
    nil: undefined,
    freq: 5
  })
const element = fc
  .tuple(
    field('did', fc.string()),
    field(
      'addr',
      fc.record(
        {
          ID: fc.oneof(peerIds, fc.string()),
          Addrs: fc.oneof(
            fc.array(
              fc.constantFrom('/ip4/10.0.0.5/tcp/4001', '/dns4/a.b/tcp/443/wss', 'nonsense')
            ),
            fc.constant(null)
          )
        },
        { requiredKeys: [] }
      )
    ),
    field('dt', fc.oneof(fc.integer(), fc.double())),
    field('user', fc.string()),
    field(
      'payload',
      fc.oneof(
        fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('base64')),
        fc.constant(null),
        fc.string()
      )
    ),
    field('proto', fc.oneof(fc.constant('/opencloud/resource/create/1.0'), fc.string())),
    field('retries', fc.oneof(fc.integer({ min: -3, max: 1_000 }), fc.double())),
    field('added_at', times),
    field(
      'dntkit',
      fc.record(
        {
          id: fc.string(),
          level: fc.oneof(fc.constantFrom('critical', 'moderate'), fc.string()),
          attempts: fc.oneof(fc.nat(), fc.double()),
          nextAttemptAt: fc.oneof(fc.nat(), fc.double()),
          meta: anything,
          lastError: fc.string(),
          deadLetter: anything,
          createdAt: fc.oneof(fc.nat(), fc.double())
        },
        { requiredKeys: [] }
      )
    ),
    fc.option(fc.tuple(fc.string({ maxLength: 8 }), anything), { nil: undefined, freq: 3 })
  )
  .map((fields) => {
    const object: Record<string, unknown> = {}
    for (const pair of fields) if (pair !== undefined) object[pair[0]] = pair[1]
    return object
  })
const document = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.array(element, { maxLength: 5 }).map((items) => JSON.stringify(items))
  },
  { weight: 1, arbitrary: fc.constant('null') },
  { weight: 1, arbitrary: anything.map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.string() }
)

describe("fuzz: the Go original's dnt_cache.bin", () => {
  it(
    `damaged files open only when intact, else fail typed, untouched (${RUNS} runs)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(damage, async (change) => {
          const file = join(directory.path, `damaged-${run++}.bin`)
          const bytes = damaged(original, change)
          await writeFile(file, bytes)
          try {
            const result = await openTyped(file, [StoreCorruptError, StoreKeyMismatchError])
            if (!(result instanceof Error)) expect(bytes.equals(original)).toBe(true)
            expect((await readFile(file)).equals(bytes)).toBe(true)
          } finally {
            await rm(file, { force: true })
            await rm(`${file}.lock`, { force: true })
          }
        }),
        { numRuns: RUNS }
      )
    },
    30_000 + RUNS * 20
  )

  it(
    `arbitrary JSON, encrypted correctly, opens to valid entries or fails StoreCorruptError (${RUNS} runs)`,
    async () => {
      const outcomes = { opened: 0, corrupt: 0 }
      await fc.assert(
        fc.asyncProperty(document, async (json) => {
          const file = join(directory.path, `json-${run++}.bin`)
          await writeGoCache(file, privateKey, json)
          const written = await readFile(file)
          try {
            const result = await openTyped(file, [StoreCorruptError])
            if (result instanceof Error) {
              outcomes.corrupt++
              expect((await readFile(file)).equals(written)).toBe(true)
              return
            }
            outcomes.opened++
            for (const item of result) validateEntry(item)
            expect(new Set(result.map((item) => item.id)).size).toBe(result.length)
            // what was read is written back with one more entry, and reads back the same
            const store = ocDiscoveryFileStore({ file, privateKey })
            await withTimeout(store.open(), 'open()')
            const extra = entry('fuzz-extra')
            await withTimeout(store.apply({ put: [extra] }), 'apply()')
            await store.close()
            const again = await openTyped(file, [])
            const ids = (again as Entry[]).map((item) => item.id)
            expect(ids).toEqual([...result.map((item) => item.id), extra.id])
            expect((again as Entry[]).slice(0, result.length)).toEqual(result)
          } finally {
            await rm(file, { force: true })
            await rm(`${file}.lock`, { force: true })
          }
        }),
        { numRuns: RUNS }
      )
      if (process.env.FUZZ_VERBOSE)
        process.stderr.write(`[fuzz oc-discovery json] ${JSON.stringify(outcomes)}\n`)
      expect(outcomes.opened).toBeGreaterThan(0)
      expect(outcomes.corrupt).toBeGreaterThan(0)
    },
    30_000 + RUNS * 50
  )
})

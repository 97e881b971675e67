/**
 * Fuzzing the journal / snapshot reader: real store files (one journal; a
 * snapshot and the journals after it) are damaged — bits flipped, bytes
 * overwritten, inserted, appended, cut off, files dropped — and opened.
 * The only outcomes allowed: the state after some prefix of the batches that
 * were applied (a torn tail cut off, or nothing damaged), after which the
 * store takes and keeps new batches; or `StoreCorruptError` /
 * `StoreKeyMismatchError` with every file left as it was. A read-only open
 * before it gives the same entries or the same error and changes nothing. Never another
 * exception, never a hang. `FUZZ_RUNS` sets the number of runs (default 400).
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Entry, StoreCorruptError, StoreKeyMismatchError } from '@dntkit/core'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fileStore } from '../src/index.js'
import { entry, type TemporaryDirectory, temporaryDirectory, testPrivateKey } from './fixtures.js'

const RUNS = Number(process.env.FUZZ_RUNS ?? 400)
/** Only a bound against a hang: never a speed the test relies on. */
const OPEN_TIMEOUT = 30_000
const privateKey = testPrivateKey(9)

/** A store as it was left on disk, and every state it went through. */
interface Sample {
  files: Map<string, Buffer>
  /** states[k]: `id=payload` of each entry, in open() order, after k batches. */
  states: string[][]
}

let root: TemporaryDirectory
const samples: Record<'journal' | 'snapshot', Sample> = {} as never

const describeEntries = (entries: Entry[]): string[] =>
  entries.map((item) => `${item.id}=${new TextDecoder().decode(item.payload)}`)

/** Applies 12 batches (puts, replacements, deletes) and records each state. */
async function makeSample(directory: string, compact: boolean): Promise<Sample> {
  const store = fileStore({
    directory,
    privateKey,
    compaction: compact
      ? { minJournalBytes: 600, journalBytesRatio: 0.1, journalRecordsRatio: 0.1 }
      : false
  })
  const model = new Map<string, Entry>()
  const states: string[][] = [[]]
  await store.open()
  for (let batch = 0; batch < 12; batch++) {
    const put = [0, 1, 2].map((offset) =>
      entry(`e${(batch * 2 + offset) % 9}`, {
        payload: new TextEncoder().encode(`batch ${batch} #${offset} ${'.'.repeat(batch * 7)}`),
        attempts: batch,
        ...(batch % 3 === 0 ? { meta: { batch, odd: batch % 2 === 1 } } : {})
      })
    )
    const remove = batch % 4 === 3 ? [`e${batch % 9}`, 'never-there'] : []
    await store.apply({ put, delete: remove })
    for (const item of put) model.set(item.id, item)
    for (const id of remove) model.delete(id)
    states.push(describeEntries([...model.values()]))
  }
  await store.close()
  const files = new Map<string, Buffer>()
  for (const name of (await readdir(directory)).sort()) {
    if (/^(journal|snapshot)-/.test(name)) files.set(name, await readFile(join(directory, name)))
  }
  return { files, states }
}

beforeAll(async () => {
  root = await temporaryDirectory('dntkit-fuzz-journal-')
  samples.journal = await makeSample(join(root.path, 'journal'), false)
  samples.snapshot = await makeSample(join(root.path, 'snapshot'), true)
  expect([...samples.snapshot.files.keys()].some((name) => name.startsWith('snapshot-'))).toBe(true)
})

afterAll(() => root.remove())

type Damage =
  | { kind: 'flip'; where: number; bit: number }
  | { kind: 'overwrite'; where: number; bytes: Uint8Array }
  | { kind: 'insert'; where: number; bytes: Uint8Array }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'truncate'; where: number }
  | { kind: 'cut-tail'; bytes: number }
  | { kind: 'drop-file' }
  | { kind: 'copy-range'; from: number; where: number; length: number }

/** Positions: anywhere, or near the start (headers, markers) or the end (the tail). */
const where = fc.oneof(
  fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  fc.double({ min: 0, max: 0.05, noNaN: true }),
  fc.double({ min: 0.9, max: 1, noNaN: true, maxExcluded: true })
)
const bytes = fc.uint8Array({ minLength: 1, maxLength: 48 })
const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), where, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('overwrite' as const), where, bytes }),
  fc.record({ kind: fc.constant('insert' as const), where, bytes }),
  fc.record({ kind: fc.constant('append' as const), bytes }),
  fc.record({ kind: fc.constant('truncate' as const), where }),
  fc.record({ kind: fc.constant('cut-tail' as const), bytes: fc.integer({ min: 1, max: 120 }) }),
  fc.record({ kind: fc.constant('drop-file' as const) }),
  fc.record({
    kind: fc.constant('copy-range' as const),
    from: where,
    where,
    length: fc.integer({ min: 1, max: 300 })
  })
)
const scenario = fc.record({
  sample: fc.constantFrom('journal' as const, 'snapshot' as const),
  // a damage targets a file by index (most often the newest journal: the torn-tail path)
  damages: fc.array(fc.record({ file: fc.oneof(fc.constant(-1), fc.nat()), damage }), {
    minLength: 1,
    maxLength: 3
  })
})

function apply(files: Map<string, Buffer>, target: number, change: Damage): void {
  const names = [...files.keys()]
  if (names.length === 0) return
  const name =
    target < 0
      ? (names.filter((item) => item.startsWith('journal-')).at(-1) ?? names[0]!)
      : names[target % names.length]!
  const bytesOf = files.get(name) as Buffer
  const at = (fraction: number): number => Math.floor(fraction * bytesOf.byteLength)
  switch (change.kind) {
    case 'flip': {
      const copy = Buffer.from(bytesOf)
      const index = at(change.where)
      if (index < copy.byteLength) copy[index] = (copy[index] as number) ^ (1 << change.bit)
      files.set(name, copy)
      return
    }
    case 'overwrite': {
      const copy = Buffer.from(bytesOf)
      copy.set(
        change.bytes.subarray(0, Math.max(0, copy.byteLength - at(change.where))),
        at(change.where)
      )
      files.set(name, copy)
      return
    }
    case 'insert':
      files.set(
        name,
        Buffer.concat([
          bytesOf.subarray(0, at(change.where)),
          change.bytes,
          bytesOf.subarray(at(change.where))
        ])
      )
      return
    case 'append':
      files.set(name, Buffer.concat([bytesOf, change.bytes]))
      return
    case 'truncate':
      files.set(name, bytesOf.subarray(0, at(change.where)))
      return
    case 'cut-tail':
      files.set(name, bytesOf.subarray(0, Math.max(0, bytesOf.byteLength - change.bytes)))
      return
    case 'drop-file':
      files.delete(name)
      return
    case 'copy-range': {
      const copy = Buffer.from(bytesOf)
      const from = at(change.from)
      copy.set(
        bytesOf
          .subarray(from, from + change.length)
          .subarray(0, Math.max(0, copy.byteLength - at(change.where))),
        at(change.where)
      )
      files.set(name, copy)
    }
  }
}

async function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what} hung for ${OPEN_TIMEOUT} ms`)),
          OPEN_TIMEOUT
        )
      })
    ])
  } finally {
    clearTimeout(timer)
  }
}

async function filesIn(directory: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>()
  for (const name of (await readdir(directory)).sort()) {
    if (name !== 'lock') files.set(name, await readFile(join(directory, name)))
  }
  return files
}

describe('fuzz: damaged fileStore files', () => {
  it(
    `opens to a state it went through, or fails typed with nothing changed (${RUNS} runs)`,
    async () => {
      let run = 0
      const outcomes = { recovered: 0, corrupt: 0, keyMismatch: 0 }
      await fc.assert(
        fc.asyncProperty(scenario, async ({ sample, damages }) => {
          const { files: original, states } = samples[sample]
          const files = new Map(original)
          for (const { file, damage: change } of damages) apply(files, file, change)
          const directory = join(root.path, `run-${run++}`)
          await mkdir(directory, { mode: 0o700 })
          try {
            for (const [name, content] of files) await writeFile(join(directory, name), content)
            const before = await filesIn(directory)
            // a read-only open first: the same entries or the same kind of error, and no change
            const reader = fileStore({ directory, privateKey, compaction: false, readOnly: true })
            const read = await withTimeout(reader.open(), 'read-only open()').then(
              (items) => ({ items }),
              (error: unknown) => ({ error })
            )
            await reader.close()
            expect(await filesIn(directory)).toEqual(before)
            const store = fileStore({ directory, privateKey, compaction: false })
            let entries: Entry[]
            try {
              entries = await withTimeout(store.open(), 'open()')
            } catch (error) {
              const typed =
                StoreCorruptError.isInstance(error) || StoreKeyMismatchError.isInstance(error)
              if (!typed) throw error
              if (StoreCorruptError.isInstance(error)) outcomes.corrupt++
              else outcomes.keyMismatch++
              expect('error' in read && (read.error as Error).name).toBe((error as Error).name)
              // the error names a file, and nothing was changed
              expect((error as Error).message).toContain(directory)
              expect(await filesIn(directory)).toEqual(before)
              return
            }
            outcomes.recovered++
            const state = describeEntries(entries)
            expect('items' in read && describeEntries(read.items)).toEqual(state)
            expect(states.map((item) => JSON.stringify(item))).toContain(JSON.stringify(state))
            // recovered: it takes a new batch and keeps it
            const extra = entry('after-recovery')
            await withTimeout(store.apply({ put: [extra], delete: [] }), 'apply()')
            await store.close()
            const again = fileStore({ directory, privateKey, compaction: false })
            const reopened = await withTimeout(again.open(), 'reopen')
            await again.close()
            expect(describeEntries(reopened)).toEqual([...state, ...describeEntries([extra])])
          } finally {
            await rm(directory, { recursive: true, force: true })
          }
        }),
        { numRuns: RUNS }
      )
      if (process.env.FUZZ_VERBOSE)
        process.stderr.write(`[fuzz journal] ${JSON.stringify(outcomes)}\n`)
      // the runs covered all three outcomes
      expect(outcomes.recovered).toBeGreaterThan(0)
      expect(outcomes.corrupt).toBeGreaterThan(0)
      expect(outcomes.keyMismatch + outcomes.corrupt + outcomes.recovered).toBe(RUNS)
    },
    30_000 + RUNS * 50
  )
})

/** What the integrity tests share: opening, listing and damaging a store of small records. */
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Entry } from '@dntkit/core'
import { encodeEntry } from '@dntkit/core/plugin'
import { fileStore, type StoreWarning } from '../src/index.js'
import { entry, random } from './fixtures.js'

/** Extra random bit positions flipped across each file, besides every bit of one record. */
export const SAMPLED = Number(process.env.INTEGRITY_SAMPLES ?? 100)
export const SEED = Number(process.env.INTEGRITY_SEED ?? 13)

export interface Opened {
  entries?: Entry[]
  error?: unknown
  warnings: StoreWarning[]
}

/** Opens the store (read-only or for writing), collecting warnings, and closes it. */
export async function openStore(
  store: string,
  key: Uint8Array,
  readOnly: boolean
): Promise<Opened> {
  const warnings: StoreWarning[] = []
  const instance = fileStore({
    directory: store,
    key,
    compaction: false,
    readOnly,
    onWarning: (warning) => warnings.push(warning)
  })
  try {
    return { entries: await instance.open(), warnings }
  } catch (error) {
    return { error, warnings }
  } finally {
    await instance.close()
  }
}

/** Every file of the store directory: `name sha256` lines, to compare quickly. */
export async function everything(store: string): Promise<string> {
  const lines: string[] = []
  for (const name of (await readdir(store)).sort()) {
    const digest = createHash('sha256').update(await readFile(join(store, name)))
    lines.push(`${name} ${digest.digest('hex')}`)
  }
  return lines.join('\n')
}

export const encoded = (entries: Entry[] | undefined): string[] =>
  (entries ?? []).map((item) => Buffer.from(encodeEntry(item)).toString('hex'))

/** Writes 6 batches (puts, replacements, deletes); returns the state after each (states[k]: after k). */
export async function writeBatches(store: string, key: Uint8Array): Promise<Entry[][]> {
  const instance = fileStore({ directory: store, key, compaction: false })
  await instance.open()
  const model = new Map<string, Entry>()
  const states: Entry[][] = [[]]
  // small entries: small records, so that flipping every bit of one stays quick
  const small = (id: string, attempts = 0): Entry =>
    entry(id, { peer: 'p', protocol: '/x', level: 'c', payload: Uint8Array.of(attempts), attempts })
  for (let batch = 0; batch < 6; batch++) {
    // batch 3 only deletes: the smallest record, the one every bit of is flipped
    const put = batch === 3 ? [] : [small(`e${batch}`), small(`e${(batch + 4) % 6}`, batch)]
    const remove = batch === 3 ? ['e1'] : batch === 5 ? ['e3'] : []
    await instance.apply({ put, delete: remove })
    // deletes first, as the store applies them: e3 of batch 5 is deleted and put again
    for (const id of remove) model.delete(id)
    for (const item of put) model.set(item.id, item)
    states.push([...model.values()])
  }
  await instance.close()
  return states
}

/** Bit positions: every bit of `target`, plus `SAMPLED` random ones elsewhere. */
export function positions(size: number, target: { offset: number; end: number }): number[] {
  const bits = new Set<number>()
  for (let bit = target.offset * 8; bit < target.end * 8; bit++) bits.add(bit)
  const next = random(SEED)
  while (bits.size < (target.end - target.offset) * 8 + SAMPLED) {
    bits.add(Math.floor(next() * size * 8))
  }
  return [...bits]
}

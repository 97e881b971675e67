import { type Entry, StoreCorruptError } from '@dntkit/core'
import { decodeEntry } from '@dntkit/core/plugin'
import type { Datastore, Pair } from 'interface-datastore'
import type { KeyLayout } from './key-layout.js'
import type { ValueCodec } from './value-codec.js'

/** What `open()` read. */
export interface LoadedEntries {
  /** In first-put order (sequence order). */
  entries: Entry[]
  /** id -> sequence of the key that holds it. */
  index: Map<string, number>
  /** One more than the highest sequence seen. */
  nextSequence: number
}

interface Problem {
  key: string
  record: number
  problem: string
  cause: unknown
  before: number
}

/**
 * Reads every entry under the layout's prefix, in sequence order. A value
 * that fails authentication or decoding, a key that is no entry key, or an
 * id seen twice throws `StoreCorruptError` naming its key (and how many
 * values read before and after it); nothing is changed.
 */
export async function loadEntries(
  datastore: Datastore,
  layout: KeyLayout,
  codec: ValueCodec,
  where: string
): Promise<LoadedEntries> {
  const pairs: Array<{ sequence: number; pair: Pair }> = []
  let stray: Pair | undefined
  for await (const pair of datastore.query({ prefix: layout.entries })) {
    const sequence = layout.sequence(pair.key)
    if (sequence === undefined) stray ??= pair
    else pairs.push({ sequence, pair })
  }
  if (stray !== undefined) {
    throw new StoreCorruptError(
      `${where}: holds the key ${stray.key.toString()}, which is no entry key of this store; nothing was changed`,
      { file: where, key: stray.key.toString() }
    )
  }
  pairs.sort((a, b) => a.sequence - b.sequence)
  const entries: Entry[] = []
  const index = new Map<string, number>()
  let first: Problem | undefined
  for (const [position, { sequence, pair }] of pairs.entries()) {
    let problem: { problem: string; cause: unknown } | undefined
    try {
      const entry = decodeEntry(await codec.decode(pair.key, pair.value))
      const earlier = index.get(entry.id)
      if (earlier === undefined) {
        entries.push(entry)
        index.set(entry.id, sequence)
        continue
      }
      problem = { problem: `repeats id "${entry.id}" of key e:${earlier}`, cause: undefined }
    } catch (error) {
      problem = { problem: `does not read (${(error as Error).message})`, cause: error }
    }
    first ??= {
      key: layout.describe(pair.key),
      record: position + 1,
      before: entries.length,
      ...problem
    }
  }
  if (first !== undefined) {
    const readableAfter = entries.length - first.before
    throw new StoreCorruptError(
      `${where}: the value at key ${first.key} ${first.problem}; ${first.before} values read before it and ${readableAfter} after it; nothing was changed`,
      {
        cause: first.cause,
        file: where,
        key: first.key,
        record: first.record,
        readableBefore: first.before,
        readableAfter
      }
    )
  }
  const last = pairs.at(-1)
  return { entries, index, nextSequence: last === undefined ? 0 : last.sequence + 1 }
}

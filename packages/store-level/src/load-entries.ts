import { type Entry, type Logger, StoreCorruptError } from '@dntkit/core'
import { decodeEntry } from '@dntkit/core/plugin'
import { OPEN_READ_CHUNK } from './constants.js'
import type { Operation, StoreDatabase } from './database.js'
import {
  describeKey,
  entryRange,
  entrySequence,
  quarantinedKey,
  quarantineKey,
  quarantineRange
} from './key-layout.js'
import type { ValueCodec } from './value-codec.js'

/** What `open()` learns from the entry range. */
export interface LoadedEntries {
  /** In key order, which is first-put order. */
  entries: Entry[]
  /** id -> sequence of its key. */
  index: Map<string, number>
  /** The sequence the next new id gets: above every entry and quarantined key. */
  nextSequence: number
  /** Values moved aside (or, read-only, skipped) during this open, with why. */
  quarantined: Array<{ key: string; problem: string }>
}

export interface LoadOptions {
  codec: ValueCodec
  quarantine: boolean
  /** False for a read-only open: a bad value is skipped, never moved. */
  write: boolean
  where: string
  log: Logger
}

/** The first bad value met without `quarantine`, and the good values around it. */
interface FirstBad {
  key: string
  record: number
  problem: { problem: string; cause: unknown }
  before: number
}

function hasLevelCode(error: unknown, wanted: string): boolean {
  const codeOf = (value: unknown) => (value as { code?: unknown } | null)?.code
  return codeOf(error) === wanted || codeOf((error as { cause?: unknown } | null)?.cause) === wanted
}

type Decoded = { entry: Entry } | { problem: string; cause: unknown }

function unauthentic(error: unknown): Decoded {
  return {
    problem: 'fails authentication (altered, or moved from another key or store)',
    cause: error
  }
}

function decodePlaintext(plaintext: Uint8Array): Decoded {
  try {
    return { entry: decodeEntry(plaintext) }
  } catch (error) {
    return { problem: `does not decode: ${(error as Error).message}`, cause: error }
  }
}

/** Synchronous when the codec is (node:crypto, plaintext): no promise per record. */
function decodeRecord(
  codec: ValueCodec,
  key: Uint8Array,
  value: Uint8Array
): Decoded | Promise<Decoded> {
  let plaintext: Uint8Array | Promise<Uint8Array>
  try {
    plaintext = codec.decode(key, value)
  } catch (error) {
    return unauthentic(error)
  }
  return plaintext instanceof Uint8Array
    ? decodePlaintext(plaintext)
    : plaintext.then(decodePlaintext, unauthentic)
}

async function decodeChunk(
  codec: ValueCodec,
  chunk: Array<[Uint8Array, Uint8Array]>
): Promise<Decoded[]> {
  const decoded = chunk.map(([key, value]) => decodeRecord(codec, key, value))
  return decoded.some((result) => result instanceof Promise)
    ? Promise.all(decoded)
    : (decoded as Decoded[])
}

async function lastQuarantinedSequence(namespace: StoreDatabase['namespace']): Promise<number> {
  const keys = await namespace.keys({ ...quarantineRange(), reverse: true, limit: 1 }).all()
  const last = keys[0]
  return last === undefined ? -1 : (entrySequence(quarantinedKey(last)) ?? -1)
}

/**
 * Reads every entry in key order, decrypting a chunk while the next one is
 * read. A bad value throws `StoreCorruptError` naming its key (and how many
 * values read before and after it) and changes nothing, unless `quarantine`
 * is set: then it moves to `q` + its key (one durable batch at the end; a
 * read-only open only skips it) and the others load. LevelDB's own
 * corruption errors met while reading are `StoreCorruptError` too.
 */
export async function loadEntries(
  database: StoreDatabase,
  options: LoadOptions
): Promise<LoadedEntries> {
  const { codec, where, log } = options
  const namespace = database.namespace
  const entries: Entry[] = []
  const index = new Map<string, number>()
  const moves: Operation[] = []
  const quarantined: LoadedEntries['quarantined'] = []
  let first: FirstBad | undefined
  let position = 0
  let lastSequence = -1
  const iterator = namespace.iterator(entryRange())
  let pending = iterator.nextv(OPEN_READ_CHUNK)
  try {
    for (;;) {
      const chunk = await pending
      if (chunk.length === 0) break
      pending = iterator.nextv(OPEN_READ_CHUNK)
      const decoded = await decodeChunk(codec, chunk)
      decoded.forEach((result, offset) => {
        const [key, value] = chunk[offset] as [Uint8Array, Uint8Array]
        position++
        const sequence = entrySequence(key)
        if (sequence !== undefined) lastSequence = Math.max(lastSequence, sequence)
        let problem: { problem: string; cause: unknown } | undefined
        if (sequence === undefined) {
          problem = { problem: 'is not a valid entry key', cause: undefined }
        } else if ('problem' in result) {
          problem = result
        } else if (index.has(result.entry.id)) {
          const earlier = index.get(result.entry.id) as number
          problem = {
            problem: `repeats id "${result.entry.id}" of key e:${earlier}`,
            cause: undefined
          }
        } else {
          entries.push(result.entry)
          index.set(result.entry.id, sequence)
          return
        }
        if (!options.quarantine) {
          first ??= { key: describeKey(key), record: position, problem, before: entries.length }
          return
        }
        log.error(
          '%s: setting aside the value at key %s: it %s',
          where,
          describeKey(key),
          problem.problem
        )
        quarantined.push({ key: describeKey(key), problem: problem.problem })
        if (options.write) {
          moves.push(
            { type: 'put', key: quarantineKey(key), value },
            { type: 'del', key: key.slice() }
          )
        }
      })
    }
  } catch (error) {
    if (!hasLevelCode(error, 'LEVEL_CORRUPTION')) throw error
    throw new StoreCorruptError(
      `${where}: LevelDB reports corruption while reading the entries (after ${position} values); nothing was changed`,
      { cause: error, file: where, readableBefore: entries.length }
    )
  } finally {
    await pending.catch(() => undefined)
    await iterator.close()
  }
  if (first !== undefined) {
    const readableAfter = entries.length - first.before
    throw new StoreCorruptError(
      `${where}: the value at key ${first.key} ${first.problem.problem}; ${first.before} values read before it and ${readableAfter} after it; nothing was changed (open with onCorrupt: 'quarantine', or repairLevelStore(), to set such values aside)`,
      {
        cause: first.problem.cause,
        file: where,
        key: first.key,
        record: first.record,
        readableBefore: first.before,
        readableAfter
      }
    )
  }
  if (moves.length > 0) await database.write(moves)
  const nextSequence = Math.max(lastSequence, await lastQuarantinedSequence(namespace)) + 1
  return { entries, index, nextSequence, quarantined }
}

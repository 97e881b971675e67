import type { Operation } from './database.js'
import { entryKey } from './key-layout.js'
import type { ValueCodec } from './value-codec.js'

/** What a write needs to know of the open store. */
export interface WriteState {
  codec: ValueCodec
  /** id -> sequence of the key that holds it. */
  index: Map<string, number>
  nextSequence: number
}

/** The operations of one batch, and what they change in the index once written. */
export interface WritePlan {
  operations: Operation[]
  /** id -> the sequence and encoding it is put under. */
  planned: Map<string, { sequence: number; bytes: Uint8Array }>
  /** Ids the batch deletes that exist. */
  removed: string[]
  /** The next free sequence after the batch. */
  next: number
}

/**
 * Plans one batch. Deletes apply first: a deleted id loses its key. Then a
 * put of a known id keeps its key (and so its position), and a new id, or one
 * this batch deleted, takes the next sequence: it moves to the end. Values
 * are sealed (concurrently when the codec is async).
 */
export async function planWrite(
  state: WriteState,
  encoded: Array<{ id: string; bytes: Uint8Array }>,
  ids: string[]
): Promise<WritePlan> {
  let next = state.nextSequence
  const removed: string[] = []
  const deletes: Operation[] = []
  const deleting = new Set<string>()
  for (const id of ids) {
    const sequence = state.index.get(id)
    if (sequence === undefined || deleting.has(id)) continue
    deleting.add(id)
    removed.push(id)
    deletes.push({ type: 'del', key: entryKey(sequence) })
  }
  const planned = new Map<string, { sequence: number; bytes: Uint8Array }>()
  for (const { id, bytes } of encoded) {
    let sequence = planned.get(id)?.sequence ?? (deleting.has(id) ? undefined : state.index.get(id))
    if (sequence === undefined) sequence = next++
    planned.set(id, { sequence, bytes })
  }
  const operations: Operation[] = []
  const sealing: Promise<void>[] = []
  for (const { sequence, bytes } of planned.values()) {
    const key = entryKey(sequence)
    const value = state.codec.encode(key, bytes)
    if (value instanceof Uint8Array) {
      operations.push({ type: 'put', key, value })
    } else {
      const operation = { type: 'put' as const, key, value: bytes }
      operations.push(operation)
      sealing.push(
        value.then((sealed) => {
          operation.value = sealed
        })
      )
    }
  }
  if (sealing.length > 0) await Promise.all(sealing)
  return { operations: [...deletes, ...operations], planned, removed, next }
}

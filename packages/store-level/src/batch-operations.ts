import { DuplicateIdError, type Entry } from '@dntkit/core'
import { cloneEntry, decodeEntry, encodeEntry, validateEntry } from '@dntkit/core/plugin'
import type { AbstractBatchPutOperation } from 'abstract-level'
import type { StoreDatabase } from './database.js'
import { entryKey } from './key-layout.js'
import type { WriteState } from './write-plan.js'

/**
 * One operation for the application's own `db.batch()`: a put into the
 * store's sublevel (`sublevel`), with the store's key and the sealed value.
 * Typed loosely so that it fits the `batch()` of a database of any encodings.
 */
// biome-ignore lint/suspicious/noExplicitAny: it fits the batch() of a database of any encodings
export type OutboxOperation = AbstractBatchPutOperation<any, any, any>

/** What the reservations read and change of the open store. */
interface OpenStore extends WriteState {
  database: Pick<StoreDatabase, 'namespace'>
}

function sameMessage(a: Entry, b: Entry): boolean {
  if (a.peer !== b.peer || a.protocol !== b.protocol) return false
  if (a.payload.byteLength !== b.payload.byteLength) return false
  return a.payload.every((byte, index) => byte === b.payload[index])
}

/**
 * The entries an application writes into the store's sublevel in its own
 * batch (the transactional outbox). Each id gets a sequence of its own
 * (reserved: never handed out twice, even when the application's batch
 * fails); the store learns whether the batch landed the first time it
 * touches the id (a put or delete from the outbox), by reading its key.
 */
export class Reservations {
  private readonly reserved = new Map<string, number>()
  /** One more than the highest sequence reserved: a reopened store never hands these out again. */
  next = 0

  /**
   * The operations that put `entries` into the store, sealed, under keys the
   * store has reserved for them. An id the store already holds with the same
   * peer, protocol and payload gets no operation (it is durable already);
   * with another message it throws `DuplicateIdError`.
   */
  async operations(state: OpenStore, entries: Entry[]): Promise<OutboxOperation[]> {
    if (!Array.isArray(entries)) throw new TypeError('entries must be an array of entries')
    const ids = new Set<string>()
    entries.forEach((entry, position) => {
      validateEntry(entry, `entries[${position}]`)
      if (ids.has(entry.id)) {
        throw new TypeError(`entries[${position}].id "${entry.id}" appears twice in the batch`)
      }
      ids.add(entry.id)
    })
    const planned: Array<{ sequence: number; entry: Entry }> = []
    for (const entry of entries.map(cloneEntry)) {
      const reserved = this.reserved.get(entry.id)
      if (reserved !== undefined && !state.index.has(entry.id)) {
        // an earlier batch of this id landed: the store holds it now
        const landed = await state.database.namespace.get(entryKey(reserved))
        if (landed !== undefined) {
          state.index.set(entry.id, reserved)
          this.reserved.delete(entry.id)
        }
      }
      const held = state.index.get(entry.id)
      if (held !== undefined) {
        const stored = await state.database.namespace.get(entryKey(held))
        if (stored === undefined) {
          state.index.delete(entry.id)
        } else {
          const existing = decodeEntry(await state.codec.decode(entryKey(held), stored))
          if (sameMessage(existing, entry)) continue
          throw new DuplicateIdError(
            `message id "${entry.id}" is already in the store with another peer, protocol or payload`
          )
        }
      }
      // an id reserved before and not written (yet) keeps its key: one key per id, whatever lands
      let sequence = this.reserved.get(entry.id)
      if (sequence === undefined) {
        sequence = Math.max(state.nextSequence, this.next)
        state.nextSequence = sequence + 1
        this.reserved.set(entry.id, sequence)
      }
      this.next = Math.max(this.next, sequence + 1)
      planned.push({ sequence, entry })
    }
    return Promise.all(
      planned.map(async ({ sequence, entry }) => {
        const key = entryKey(sequence)
        const value = await state.codec.encode(key, encodeEntry(entry))
        return {
          type: 'put' as const,
          // the store's sublevel (a sublevel of the application's database)
          sublevel: state.database.namespace as unknown as OutboxOperation['sublevel'],
          key,
          value,
          keyEncoding: 'view',
          valueEncoding: 'view'
        }
      })
    )
  }

  /**
   * Before the store writes `ids`: a reserved id whose key holds a value
   * (the application's batch landed) joins the index, so later puts keep its
   * position and deletes remove it; one whose key is empty is forgotten.
   */
  async settle(state: OpenStore, ids: Iterable<string>): Promise<void> {
    if (this.reserved.size === 0) return
    for (const id of ids) {
      const sequence = this.reserved.get(id)
      if (sequence === undefined) continue
      this.reserved.delete(id)
      if (state.index.has(id)) continue
      const value = await state.database.namespace.get(entryKey(sequence))
      if (value !== undefined) state.index.set(id, sequence)
    }
  }

  /** After the store read its entries again: ids now on disk are settled. */
  loaded(index: Map<string, number>): void {
    for (const id of index.keys()) this.reserved.delete(id)
  }
}

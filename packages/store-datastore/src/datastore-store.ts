import {
  defaultLogger,
  type Entry,
  type Logger,
  type Store,
  StoreClosedError,
  StoreCorruptError,
  StoreLockedError,
  type StoreNode
} from '@dntkit/core'
import {
  AbstractStore,
  type Aead,
  createAead,
  encodeEntry,
  type ValidBatch
} from '@dntkit/core/plugin'
import type { Datastore } from 'interface-datastore'
import { type Change, commit } from './commit.js'
import { KEY_LABEL, LOGGER_NAME } from './constants.js'
import { checkDatastore, type DatastoreStoreInit, type ResolvedInit, resolveInit } from './init.js'
import { KeyLayout } from './key-layout.js'
import { loadEntries } from './load-entries.js'
import { createMarker, readMarker } from './marker.js'
import { plaintextValues, sealedValues, type ValueCodec } from './value-codec.js'

/** A `Store` in an `interface-datastore` `Datastore`. */
export interface DatastoreStore extends Store {
  open(): Promise<Entry[]>
  /** The node's private key and datastore, used for what the store was made without. */
  useNode(node: StoreNode): void
}

interface OpenState {
  datastore: Datastore
  codec: ValueCodec
  /** id -> sequence of the key that holds it. */
  index: Map<string, number>
  nextSequence: number
}

/** Prefixes held by a writing store of this process, per datastore: one writer per prefix. */
const held = new WeakMap<Datastore, Set<string>>()

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name
  return name === 'NotFoundError' || (error as { code?: unknown } | null)?.code === 'ERR_NOT_FOUND'
}

class DefaultDatastoreStore extends AbstractStore implements DatastoreStore {
  private readonly init: ResolvedInit
  private readonly layout: KeyLayout
  private readonly log: Logger
  private nodeDatastore: Datastore | undefined
  private aead: Promise<Aead> | undefined
  private state: OpenState | undefined

  constructor(init: ResolvedInit) {
    super({ name: `datastore store under "${init.prefix}"`, readOnly: init.readOnly })
    this.init = init
    this.layout = new KeyLayout(init.prefix)
    this.log = (init.logger ?? defaultLogger)(LOGGER_NAME)
  }

  useNode(node: StoreNode): void {
    this.init.key.useNode(node)
    if (this.init.datastore === undefined && node?.datastore != null) {
      this.nodeDatastore = checkDatastore(node.datastore, "the node's datastore")
    }
  }

  protected async _open(): Promise<Entry[]> {
    const where = this.storeName
    const datastore = this.init.datastore ?? this.nodeDatastore
    if (datastore === undefined) {
      throw new TypeError(
        `${where} has no datastore: pass \`datastore\` to datastoreStore(), or run it in the dnt() service, which gives it the libp2p node's own datastore`
      )
    }
    const source = this.init.key.source(where)
    if (source !== undefined && this.aead === undefined) {
      this.aead = createAead(source, KEY_LABEL)
      this.aead.catch(() => {
        this.aead = undefined
      })
    }
    const aead = await this.aead
    if (!this.readOnly) this.hold(datastore)
    try {
      if ((datastore as object).constructor?.name === 'MemoryDatastore') {
        this.log.error(
          "%s: the datastore keeps everything in memory (libp2p's default): the queue will not survive a restart; give createLibp2p a persistent datastore (datastore-level, datastore-idb)",
          where
        )
      }
      const codec = await this.openMarker(datastore, aead)
      const loaded = await loadEntries(datastore, this.layout, codec, where)
      this.state = { datastore, codec, index: loaded.index, nextSequence: loaded.nextSequence }
      this.log('%s: opened with %d entries', where, loaded.entries.length)
      return loaded.entries
    } catch (error) {
      this.release(datastore)
      throw error
    }
  }

  /** `open()` of an open store reads the entries again. */
  protected override async _reread(): Promise<Entry[]> {
    const state = this.state as OpenState
    const loaded = await loadEntries(state.datastore, this.layout, state.codec, this.storeName)
    state.index = loaded.index
    state.nextSequence = Math.max(state.nextSequence, loaded.nextSequence)
    return loaded.entries
  }

  /** Checks the marker (writing one into an empty store), and returns the codec of the values. */
  private async openMarker(datastore: Datastore, aead: Aead | undefined): Promise<ValueCodec> {
    const where = this.storeName
    let marker: Uint8Array | undefined
    try {
      marker = await datastore.get(this.layout.marker)
    } catch (error) {
      if (!isNotFound(error)) throw error
    }
    let storeId: Uint8Array
    if (marker === undefined) {
      for await (const key of datastore.queryKeys({ prefix: this.layout.entries, limit: 1 })) {
        throw new StoreCorruptError(
          `${where}: holds key ${this.layout.describe(key)} but no marker record "meta"; refusing to guess its key`,
          { file: where, key: this.layout.describe(key) }
        )
      }
      if (this.readOnly) {
        storeId = new Uint8Array(0)
      } else {
        const created = await createMarker(aead)
        await commit(datastore, [{ type: 'put', key: this.layout.marker, value: created.value }])
        storeId = created.storeId
      }
    } else {
      storeId = await readMarker(marker, aead, where, this.init.key.mismatch(where))
    }
    return aead === undefined ? plaintextValues() : sealedValues(aead, storeId)
  }

  protected async _apply({ put, delete: remove }: ValidBatch): Promise<void> {
    const state = this.state
    if (state === undefined) throw new StoreClosedError(`${this.storeName} is not open`)
    const changes: Change[] = []
    const deleted = new Set<string>()
    for (const id of remove) {
      const sequence = state.index.get(id)
      if (sequence === undefined || deleted.has(id)) continue
      deleted.add(id)
      changes.push({ type: 'del', key: this.layout.entry(sequence) })
    }
    // deletes apply first: an id deleted and put again takes a new sequence (moves to the end)
    const planned = new Map<string, { sequence: number; entry: Entry }>()
    let next = state.nextSequence
    for (const entry of put) {
      const sequence =
        planned.get(entry.id)?.sequence ??
        (deleted.has(entry.id) ? undefined : state.index.get(entry.id)) ??
        next++
      planned.set(entry.id, { sequence, entry })
    }
    // sequences are never handed out twice, even when the write fails
    state.nextSequence = next
    const sealed = await Promise.all(
      Array.from(planned.values(), async ({ sequence, entry }) => {
        const key = this.layout.entry(sequence)
        return {
          type: 'put' as const,
          key,
          value: await state.codec.encode(key, encodeEntry(entry))
        }
      })
    )
    await commit(state.datastore, [...changes, ...sealed])
    for (const id of deleted) state.index.delete(id)
    for (const [id, { sequence }] of planned) state.index.set(id, sequence)
  }

  protected async _close(): Promise<void> {
    const state = this.state
    if (state === undefined) return
    this.state = undefined
    this.release(state.datastore)
    this.log('%s: closed', this.storeName)
  }

  private hold(datastore: Datastore): void {
    const prefixes = held.get(datastore) ?? new Set<string>()
    if (prefixes.has(this.init.prefix)) {
      throw new StoreLockedError(
        `${this.storeName} is locked: another store of this process has the prefix "${this.init.prefix}" of this datastore open (give each store its own \`prefix\`)`
      )
    }
    prefixes.add(this.init.prefix)
    held.set(datastore, prefixes)
  }

  private release(datastore: Datastore): void {
    if (!this.readOnly) held.get(datastore)?.delete(this.init.prefix)
  }
}

/**
 * A dntkit `Store` over libp2p's `interface-datastore`: the outbox kept in a
 * `Datastore` (datastore-level in Node, datastore-idb in browsers), by
 * default the node's own, given by the `dnt()` service together with the
 * node's private key. One key per entry in first-put order, values
 * AES-256-GCM sealed under a key derived from the node's private key (HKDF
 * label `dntkit/store-datastore/v1`) and bound to their datastore key; each
 * `apply` is one atomic batch.
 *
 * Throws `TypeError` at once for wrong options; `open()` rejects with
 * `TypeError` (no datastore or no key), `StoreLockedError`,
 * `StoreKeyMismatchError` or `StoreCorruptError`.
 */
export function datastoreStore(init: DatastoreStoreInit = {}): DatastoreStore {
  return new DefaultDatastoreStore(resolveInit(init))
}

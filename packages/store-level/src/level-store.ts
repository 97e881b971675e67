import {
  defaultLogger,
  type Entry,
  type Logger,
  StoreClosedError,
  type StoreNode,
  StoreReadOnlyError
} from '@dntkit/core'
import {
  AbstractStore,
  type Aead,
  createAead,
  encodeEntry,
  type ValidBatch
} from '@dntkit/core/plugin'
import { type OutboxOperation, Reservations } from './batch-operations.js'
import { KEY_LABEL, LOGGER_NAME } from './constants.js'
import type { StoreDatabase } from './database.js'
import { type LevelStoreInit, type ResolvedInit, resolveInit } from './init.js'
import { describeKey, markerKey, quarantinedKey, quarantineRange } from './key-layout.js'
import type { LevelStore, QuarantinedValue } from './level-store-api.js'
import { type LoadedEntries, loadEntries } from './load-entries.js'
import { createMarker, expectEmpty, readMarker } from './marker.js'
import { openDatabase } from './open-database.js'
import type { Platform } from './platform.js'
import type { DatabaseCopy } from './read-only-copy.js'
import { StoreLock } from './store-lock.js'
import { plaintextValues, sealedValues, type ValueCodec } from './value-codec.js'
import { planWrite } from './write-plan.js'

interface OpenState {
  database: StoreDatabase
  codec: ValueCodec
  /** id -> sequence of the key that holds it. */
  index: Map<string, number>
  nextSequence: number
  /** A write failed: LevelDB may have left its log damaged, so reopen before the next write. */
  damaged?: boolean
  /** The private copy a read-only store of a `location` reads. */
  copy?: DatabaseCopy
}

function isNotOpen(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'LEVEL_DATABASE_NOT_OPEN'
}

/** The values the last open of each store set aside (for `repairLevelStore()`'s report). */
const setAside = new WeakMap<object, LoadedEntries['quarantined']>()

/** The values the last `open()` of `store` set aside, with why. */
export function setAsideByLastOpen(store: LevelStore): LoadedEntries['quarantined'] {
  return setAside.get(store) ?? []
}

class DefaultLevelStore extends AbstractStore implements LevelStore {
  private readonly init: ResolvedInit
  private readonly log: Logger
  private state: OpenState | undefined
  private aead: Promise<Aead> | undefined
  private readonly lock: StoreLock
  private readonly reservations = new Reservations()

  constructor(
    init: ResolvedInit,
    private readonly platform: Platform
  ) {
    super({ name: init.where, readOnly: init.readOnly })
    this.init = init
    this.log = (init.logger ?? defaultLogger)(LOGGER_NAME)
    this.lock = new StoreLock(platform, init, this.log)
  }

  protected async _open(): Promise<Entry[]> {
    const state = await this.openNamespace(this.lock.signal)
    if (state === undefined) {
      this.log('%s: no database yet, opened read-only and empty', this.init.where)
      return []
    }
    try {
      return await this.load(state)
    } catch (error) {
      await this.release(state)
      throw error
    }
  }

  /** An `open()` still waiting for the store's lock gives up: it would hold this `close()` back. */
  override close(): Promise<void> {
    this.lock.abandon()
    return super.close()
  }

  /** `open()` of an open store reads the entries again. */
  protected override async _reread(): Promise<Entry[]> {
    return this.state === undefined ? [] : this.load(this.state)
  }

  private async load(state: OpenState): Promise<Entry[]> {
    const loaded = await this.loadEntries(state)
    setAside.set(this, loaded.quarantined)
    state.index = loaded.index
    state.nextSequence = Math.max(loaded.nextSequence, this.reservations.next)
    this.reservations.loaded(loaded.index)
    this.state = state
    this.log(
      '%s: opened with %d entries (%d values set aside now)',
      this.init.where,
      loaded.entries.length,
      loaded.quarantined.length
    )
    return loaded.entries
  }

  private loadEntries(state: OpenState): Promise<LoadedEntries> {
    return loadEntries(state.database, {
      codec: state.codec,
      quarantine: this.init.quarantine,
      write: !this.readOnly,
      where: this.init.where,
      log: this.log
    })
  }

  private async release(state: OpenState): Promise<void> {
    await state.database.release().catch(() => undefined)
    await state.copy?.remove().catch(() => undefined)
    this.lock.release()
  }

  /**
   * Opens the database (taking the store's lock first when it writes) and
   * checks its marker (creating it on a first open for writing). `signal`: a
   * `close()` was called meanwhile, so stop waiting for the lock.
   */
  private async openNamespace(signal: AbortSignal): Promise<OpenState | undefined> {
    const { where } = this.init
    const keySource = this.init.key.source(where)
    if (keySource !== undefined && this.aead === undefined) {
      this.aead = createAead(keySource, KEY_LABEL)
      this.aead.catch(() => {
        this.aead = undefined
      })
    }
    const aead = await this.aead
    let opened: Awaited<ReturnType<typeof openDatabase>>
    try {
      opened = await openDatabase(this.init, this.platform, this.lock, signal)
    } catch (error) {
      this.lock.release()
      throw error
    }
    if (opened === undefined) return undefined
    const { database, copy } = opened
    try {
      const namespace = database.namespace
      const marker = await namespace.get(markerKey())
      let codec: ValueCodec
      if (marker === undefined) {
        await expectEmpty(namespace, where)
        // read-only: an empty store without a marker stays without one
        const storeId = this.readOnly ? new Uint8Array(0) : await this.writeMarker(database, aead)
        codec = aead === undefined ? plaintextValues() : sealedValues(aead, storeId)
      } else {
        const storeId = await readMarker(marker, aead, where, this.init.key.mismatch(where))
        codec = aead === undefined ? plaintextValues() : sealedValues(aead, storeId)
      }
      return { database, codec, index: new Map(), nextSequence: 0, ...(copy ? { copy } : {}) }
    } catch (error) {
      await database.release().catch(() => undefined)
      await copy?.remove().catch(() => undefined)
      this.lock.release()
      throw error
    }
  }

  private async writeMarker(database: StoreDatabase, aead: Aead | undefined): Promise<Uint8Array> {
    const created = await createMarker(aead)
    await database.write([{ type: 'put', key: markerKey(), value: created.value }])
    return created.storeId
  }

  protected async _apply({ put, delete: remove }: ValidBatch): Promise<void> {
    const encoded = put.map((entry) => ({ id: entry.id, bytes: encodeEntry(entry) }))
    await this.write(encoded, remove)
  }

  private async write(
    encoded: Array<{ id: string; bytes: Uint8Array }>,
    ids: string[]
  ): Promise<void> {
    if (this.state?.damaged === true) await this.reopen()
    const state = this.state
    if (state === undefined) throw new StoreClosedError(`${this.init.where} is not open`)
    await this.reservations.settle(state, [...encoded.map((item) => item.id), ...ids])
    const { operations, planned, removed, next } = await planWrite(state, encoded, ids)
    // sequences are never handed out twice, even when the write fails
    state.nextSequence = next
    if (operations.length === 0) return
    try {
      await state.database.write(operations)
    } catch (error) {
      if (isNotOpen(error)) {
        throw new StoreClosedError(
          `${this.init.where}: the database was closed underneath the store`,
          {
            cause: error
          }
        )
      }
      // e.g. ENOSPC: later writes to the same handle may "succeed" into a damaged log
      // and vanish at the next open, so the database is reopened before the next write
      if (this.init.location !== undefined) state.damaged = true
      throw error
    }
    for (const id of removed) state.index.delete(id)
    for (const [id, { sequence }] of planned) state.index.set(id, sequence)
  }

  /**
   * Closes and reopens an own database after a failed write, so LevelDB
   * recovers its log; the index is rebuilt from what is really on disk. Until
   * it succeeds every write fails, and the store stays `damaged`.
   */
  private async reopen(): Promise<void> {
    const previous = this.state as OpenState
    await previous.database.release().catch(() => undefined)
    const state = (await this.openNamespace(this.lock.signal)) as OpenState
    try {
      const loaded = await this.loadEntries(state)
      state.index = loaded.index
      state.nextSequence = Math.max(loaded.nextSequence, previous.nextSequence)
    } catch (error) {
      await state.database.release().catch(() => undefined)
      throw error
    }
    this.state = state
    this.log('%s: reopened after a failed write', this.init.where)
  }

  useNode(node: StoreNode): void {
    this.init.key.useNode(node)
  }

  batchOperations(entries: Entry[]): Promise<OutboxOperation[]> {
    return this.serialize(async () => {
      const state = this.state
      if (this.status !== 'open' || state === undefined) {
        throw new StoreClosedError(`${this.init.where} is not open`)
      }
      if (this.readOnly) throw new StoreReadOnlyError(`${this.init.where} was opened read-only`)
      if (this.init.db === undefined) {
        throw new TypeError(
          `${this.init.where}: batchOperations() is for a store in the application's own database (\`db\`), whose batch() it joins`
        )
      }
      return this.reservations.operations(state, entries)
    })
  }

  quarantined(): Promise<QuarantinedValue[]> {
    return this.serialize(async () => {
      if (this.status !== 'open') throw new StoreClosedError(`${this.init.where} is not open`)
      const state = this.state
      if (state === undefined) return []
      const records = await state.database.namespace.iterator(quarantineRange()).all()
      return records.map(([key, value]) => ({
        key: describeKey(quarantinedKey(key)),
        value: Uint8Array.from(value)
      }))
    })
  }

  protected async _close(): Promise<void> {
    const state = this.state
    if (state === undefined) return
    this.state = undefined
    try {
      await state.database.release()
      await state.copy?.remove()
    } finally {
      this.lock.release()
    }
    this.log('%s: closed', this.init.where)
  }
}

/** A level store on `platform` (Node or browser); `levelStore()` of each entry point calls it. */
export function createLevelStore(init: LevelStoreInit, platform: Platform): LevelStore {
  return new DefaultLevelStore(resolveInit(init, platform), platform)
}

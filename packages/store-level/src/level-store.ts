import {
  type Aead,
  createAead,
  defaultLogger,
  type Entry,
  encodeEntry,
  type Logger,
  type Store,
  type StoreBatch,
  StoreClosedError,
  StoreCorruptError,
  validateBatch
} from '@dntkit/core'
import { KEY_LABEL, LOGGER_NAME } from './constants.js'
import {
  type Namespace,
  type Operation,
  openInApplicationDatabase,
  openOwnDatabase,
  type StoreDatabase
} from './database.js'
import { type LevelStoreInit, type ResolvedInit, resolveInit } from './init.js'
import {
  describeKey,
  entryKey,
  entryRange,
  markerKey,
  quarantinedKey,
  quarantineRange
} from './key-layout.js'
import { loadEntries } from './load-entries.js'
import { createMarker, readMarker } from './marker.js'
import type { Platform } from './platform.js'
import { StoreLock } from './store-lock.js'
import { plaintextValues, sealedValues, type ValueCodec } from './value-codec.js'

/** A value `quarantine: true` moved aside. */
export interface QuarantinedValue {
  /** The key it was found under, e.g. `e:42`. */
  key: string
  /** The stored bytes, unchanged. */
  value: Uint8Array
}

/** A `Store` on LevelDB (or any abstract-level database). */
export interface LevelStore extends Store {
  open(): Promise<Entry[]>
  /** Values set aside by `quarantine: true`, oldest key first; the store must be open. */
  quarantined(): Promise<QuarantinedValue[]>
}

interface OpenState {
  database: StoreDatabase
  codec: ValueCodec
  /** id -> sequence of the key that holds it. */
  index: Map<string, number>
  nextSequence: number
  /** A write failed: LevelDB may have left its log damaged, so reopen before the next write. */
  damaged?: boolean
}

function isNotOpen(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'LEVEL_DATABASE_NOT_OPEN'
}

class DefaultLevelStore implements LevelStore {
  private readonly init: ResolvedInit
  private readonly log: Logger
  private state: OpenState | undefined
  private tail: Promise<unknown> = Promise.resolve()
  private aead: Promise<Aead> | undefined
  private readonly lock: StoreLock

  constructor(
    init: ResolvedInit,
    private readonly platform: Platform
  ) {
    this.init = init
    this.log = (init.logger ?? defaultLogger)(LOGGER_NAME)
    this.lock = new StoreLock(platform, init, this.log)
  }

  /** Runs `task` after every earlier call has settled: one operation at a time, in call order. */
  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task)
    this.tail = run.catch(() => undefined)
    return run
  }

  open(): Promise<Entry[]> {
    const signal = this.lock.signal
    return this.serialize(async () => {
      let state = this.state
      try {
        state ??= await this.openNamespace(signal)
        const loaded = await loadEntries(state.database, {
          codec: state.codec,
          quarantine: this.init.quarantine,
          where: this.init.where,
          log: this.log
        })
        state.index = loaded.index
        state.nextSequence = loaded.nextSequence
        this.state = state
        this.log(
          '%s: opened with %d entries (%d values quarantined now)',
          this.init.where,
          loaded.entries.length,
          loaded.quarantined
        )
        return loaded.entries
      } catch (error) {
        this.state = undefined
        await state?.database.release().catch(() => undefined)
        this.lock.release()
        throw error
      }
    })
  }

  /** `signal`: a `close()` was called meanwhile, so stop waiting for the lock. */
  private async openNamespace(signal = this.lock.signal): Promise<OpenState> {
    const { location, db, prefix, where, keySource } = this.init
    if (keySource !== undefined && this.aead === undefined) {
      this.aead = createAead(keySource, KEY_LABEL)
      this.aead.catch(() => {
        this.aead = undefined
      })
    }
    const aead = await this.aead
    const own =
      location !== undefined ? await this.platform.createDatabase(location, where) : undefined
    await this.lock.take(own ?? db!, signal)
    const database =
      own !== undefined
        ? await openOwnDatabase(own, prefix, where)
        : await openInApplicationDatabase(db!, prefix, where)
    try {
      const namespace = database.namespace
      let storeId: Uint8Array
      const marker = await namespace.get(markerKey())
      if (marker === undefined) {
        await this.expectEmpty(namespace)
        const created = await createMarker(aead)
        await database.write([{ type: 'put', key: markerKey(), value: created.value }])
        storeId = created.storeId
      } else {
        storeId = await readMarker(marker, aead, where)
      }
      const codec = aead === undefined ? plaintextValues() : sealedValues(aead, storeId)
      return { database, codec, index: new Map(), nextSequence: 0 }
    } catch (error) {
      await database.release().catch(() => undefined)
      throw error
    }
  }

  /** A store without a marker must hold nothing: otherwise the marker was lost and no key can be checked. */
  private async expectEmpty(namespace: Namespace): Promise<void> {
    for (const range of [entryRange(), quarantineRange()]) {
      const keys = await namespace.keys({ ...range, limit: 1 }).all()
      if (keys[0] !== undefined) {
        throw new StoreCorruptError(
          `${this.init.where}: holds key ${describeKey(keys[0])} but no marker record "meta"; refusing to guess its key`
        )
      }
    }
  }

  async apply(batch: StoreBatch): Promise<void> {
    const { put, delete: remove } = validateBatch(batch)
    // encoded now: the caller may change its objects once this returns
    const encoded = put.map((entry) => ({ id: entry.id, bytes: encodeEntry(entry) }))
    const ids = remove.slice()
    return this.serialize(() => this.write(encoded, ids))
  }

  private async write(
    encoded: Array<{ id: string; bytes: Uint8Array }>,
    ids: string[]
  ): Promise<void> {
    if (this.state?.damaged === true) await this.reopen()
    const state = this.state
    if (state === undefined) throw new StoreClosedError(`${this.init.where} is not open`)
    let next = state.nextSequence
    const planned = new Map<string, { sequence: number; bytes: Uint8Array }>()
    for (const { id, bytes } of encoded) {
      let sequence = planned.get(id)?.sequence ?? state.index.get(id)
      if (sequence === undefined) sequence = next++
      planned.set(id, { sequence, bytes })
    }
    const removed: string[] = []
    const deletes: Operation[] = []
    for (const id of ids) {
      const sequence = state.index.get(id) ?? planned.get(id)?.sequence
      if (sequence === undefined) continue
      planned.delete(id)
      removed.push(id)
      deletes.push({ type: 'del', key: entryKey(sequence) })
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
    operations.push(...deletes)
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
    for (const [id, { sequence }] of planned) state.index.set(id, sequence)
    for (const id of removed) state.index.delete(id)
  }

  /**
   * Closes and reopens an own database after a failed write, so LevelDB
   * recovers its log; the index is rebuilt from what is really on disk. Until
   * it succeeds every write fails, and the store stays `damaged`.
   */
  private async reopen(): Promise<void> {
    const previous = this.state as OpenState
    await previous.database.release().catch(() => undefined)
    const state = await this.openNamespace()
    try {
      const loaded = await loadEntries(state.database, {
        codec: state.codec,
        quarantine: this.init.quarantine,
        where: this.init.where,
        log: this.log
      })
      state.index = loaded.index
      state.nextSequence = Math.max(loaded.nextSequence, previous.nextSequence)
    } catch (error) {
      await state.database.release().catch(() => undefined)
      throw error
    }
    this.state = state
    this.log('%s: reopened after a failed write', this.init.where)
  }

  quarantined(): Promise<QuarantinedValue[]> {
    return this.serialize(async () => {
      const state = this.state
      if (state === undefined) throw new StoreClosedError(`${this.init.where} is not open`)
      const records = await state.database.namespace.iterator(quarantineRange()).all()
      return records.map(([key, value]) => ({
        key: describeKey(quarantinedKey(key)),
        value: Uint8Array.from(value)
      }))
    })
  }

  close(): Promise<void> {
    // an open() waiting for the lock gives up: it would otherwise hold this close() back
    this.lock.abandon()
    return this.serialize(async () => {
      const state = this.state
      if (state === undefined) return
      this.state = undefined
      await state.database.release().finally(() => this.lock.release())
      this.log('%s: closed', this.init.where)
    })
  }
}

/** A level store on `platform` (Node or browser); `levelStore()` of each entry point calls it. */
export function createLevelStore(init: LevelStoreInit, platform: Platform): LevelStore {
  return new DefaultLevelStore(resolveInit(init, platform), platform)
}

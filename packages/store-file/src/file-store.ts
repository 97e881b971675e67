import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import {
  defaultLogger,
  describeError,
  type Entry,
  StoreClosedError,
  type StoreNode,
  StoreReadOnlyError
} from '@dntkit/core'
import { type Aead, createAead, encodeEntry, StoreKey, type ValidBatch } from '@dntkit/core/plugin'
import { JournalLedger, removeReplaced } from './compaction.js'
import { DEFAULT_COMPACTION, FILE_STORE_LABEL, LOGGER_NAME } from './constants.js'
import { type FileStore, type FileStoreInit, resolveFileStoreInit } from './file-store-init.js'
import { Journal } from './journal.js'
import type { Lock } from './lock.js'
import { type OpenContext, openForReading, openForWriting } from './open-directory.js'
import { fileName, SNAPSHOT } from './record-format.js'
import { encodeBatch } from './record-payload.js'
import type { Recovered } from './recovery.js'
import { writeSnapshot } from './snapshot.js'
import { WarningStore } from './warnings.js'

class DirectoryStore extends WarningStore implements FileStore {
  private directory: string
  private key?: Aead
  private lock?: Lock
  private storeId: Uint8Array = new Uint8Array(16)
  private entries = new Map<string, Uint8Array>()
  private liveBytes = 0
  private journal?: Journal
  private readonly ledger: JournalLedger
  private snapshotting?: Promise<void>
  private compactionQueued = false
  private readonly storeKey: StoreKey

  constructor(private readonly init: FileStoreInit & { onCorrupt: 'throw' | 'quarantine' }) {
    super({
      name: `file store ${init.directory}`,
      readOnly: init.readOnly ?? false,
      log: (init.logger ?? defaultLogger)(LOGGER_NAME),
      onWarning: init.onWarning
    })
    this.directory = init.directory
    this.storeKey = new StoreKey(init, 'fileStore()')
    this.ledger = new JournalLedger(
      init.compaction === false ? undefined : { ...DEFAULT_COMPACTION, ...init.compaction }
    )
  }

  /** The node's private key, used when the store was made without `privateKey` or `key`. */
  useNode(node: StoreNode): void {
    this.storeKey.useNode(node)
  }

  private context(key: Aead): OpenContext {
    return {
      directory: this.init.directory,
      key,
      onCorrupt: this.init.onCorrupt,
      warn: (code, file, message) => this.warn(code, file, message),
      log: this.log
    }
  }

  protected async _open(): Promise<Entry[]> {
    // a bad key fails before anything is read or created
    // fileStore() has no `encryption: false`: there is always a source, or source() throws
    this.key ??= await createAead(this.storeKey.source(this.storeName)!, FILE_STORE_LABEL)
    if (this.readOnly) {
      const entries = await openForReading(this.context(this.key))
      this.log('opened %s read-only: %d entries', this.init.directory, entries.length)
      return entries
    }
    const opened = await openForWriting(this.context(this.key))
    this.directory = opened.directory
    this.lock = opened.lock
    try {
      return await this.start(opened.recovered)
    } catch (error) {
      await this.journal?.close().catch(() => {})
      await this.lock.release().catch(() => {})
      this.reset()
      throw error
    }
  }

  private async start(recovered: Recovered | undefined): Promise<Entry[]> {
    const key = this.key as Aead
    if (recovered === undefined) {
      this.storeId = new Uint8Array(randomBytes(16))
      this.journal = await Journal.create(this.directory, 1, this.storeId, key)
      this.ledger.reset([{ generation: 1, bytes: this.journal.bytes, records: 0 }])
      this.log('opened new store in %s', this.directory)
      return []
    }
    const active = recovered.journals.at(-1) as Recovered['journals'][number]
    // cuts a torn tail (its bytes were kept aside when the directory was opened)
    this.journal = await Journal.resume(
      active.file.path,
      active.file.header,
      key,
      active.validEnd,
      active.records
    )
    this.storeId = recovered.storeId
    this.entries = recovered.entries
    for (const encoded of this.entries.values()) this.liveBytes += encoded.byteLength
    this.ledger.reset(
      recovered.journals.map((journal) => ({
        generation: journal.file.header.generation,
        bytes: journal.validEnd,
        records: journal.records
      }))
    )
    this.log(
      'opened %s: %d entries, %d journal(s)',
      this.directory,
      this.entries.size,
      this.ledger.count
    )
    return recovered.decoded
  }

  protected async _apply({ put, delete: remove }: ValidBatch): Promise<void> {
    const puts = put.map((entry) => ({ id: entry.id, encoded: encodeEntry(entry) }))
    const putIds = new Set(puts.map((item) => item.id))
    const effective = [...new Set(remove)].filter((id) => this.entries.has(id) || putIds.has(id))
    if (puts.length === 0 && effective.length === 0) return
    const journal = this.journal as Journal
    const written = await journal.append(
      encodeBatch(
        puts.map((item) => item.encoded),
        effective
      )
    )
    this.ledger.appended(written)
    // deletes first: an id both deleted and put in one batch moves to the end
    for (const id of effective) {
      this.liveBytes -= this.entries.get(id)?.byteLength ?? 0
      this.entries.delete(id)
    }
    for (const { id, encoded } of puts) {
      this.liveBytes += encoded.byteLength - (this.entries.get(id)?.byteLength ?? 0)
      this.entries.set(id, encoded)
    }
    if (
      !this.compactionQueued &&
      this.snapshotting === undefined &&
      this.ledger.due(this.liveBytes, this.entries.size)
    ) {
      this.compactionQueued = true
      this.serialize(() => this.startCompaction()).catch((error) => {
        this.ledger.failed()
        this.warn('compaction-failed', this.directory, describeError(error))
      })
    }
  }

  /**
   * Starts a new journal, then writes the snapshot of the state at the switch
   * in the background; returns that write, which never rejects (a failure is
   * a `compaction-failed` warning and is returned as its value).
   */
  private async startCompaction(): Promise<{ written: Promise<unknown> }> {
    try {
      if (this.status !== 'open') throw new StoreClosedError(`${this.storeName} is not open`)
      await this.snapshotting
      const previous = this.journal as Journal
      const key = this.key as Aead
      const next = await Journal.create(this.directory, previous.generation + 1, this.storeId, key)
      this.journal = next
      this.ledger.add(next.generation, next.bytes)
      await previous.close().catch(() => {})
      const entries = Array.from(this.entries.values())
      this.log('compacting %d entries into snapshot %d', entries.length, next.generation)
      const written = this.snapshot(next.generation, entries, key)
      this.snapshotting = written.then(() => {
        this.snapshotting = undefined
      })
      return { written }
    } finally {
      this.compactionQueued = false
    }
  }

  private async snapshot(generation: number, entries: Uint8Array[], key: Aead): Promise<unknown> {
    try {
      await writeSnapshot(this.directory, generation, this.storeId, key, entries)
    } catch (error) {
      this.ledger.failed()
      this.warn(
        'compaction-failed',
        join(this.directory, fileName(SNAPSHOT, generation)),
        describeError(error)
      )
      return error
    }
    // the snapshot is durable: what it replaces can go (a leftover is removed on the next open)
    await removeReplaced(this.directory, this.ledger.covered(generation))
    return undefined
  }

  async compact(): Promise<void> {
    if (this.readOnly) {
      throw new StoreReadOnlyError(`${this.storeName} was opened read-only: it never writes`)
    }
    const { written } = await this.serialize(() => this.startCompaction())
    const error = await written
    if (error !== undefined) throw error
  }

  protected async _close(): Promise<void> {
    await this.snapshotting
    try {
      await this.journal?.close()
    } finally {
      await this.lock?.release()
      this.reset()
      this.log('closed %s', this.directory)
    }
  }

  private reset(): void {
    this.journal = undefined
    this.lock = undefined
    this.entries = new Map()
    this.liveBytes = 0
    this.ledger.reset([])
    this.compactionQueued = false
  }
}

/**
 * An encrypted, crash-safe `Store` in a directory: an append-only journal of
 * AES-256-GCM sealed batch records plus a snapshot, compacted in the
 * background. See the README for the byte layout and the guarantees.
 */
export function fileStore(init: FileStoreInit): FileStore {
  return new DirectoryStore(resolveFileStoreInit(init))
}

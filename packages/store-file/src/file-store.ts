import { randomBytes } from 'node:crypto'
import { realpath, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import {
  type Aead,
  createAead,
  defaultLogger,
  describeError,
  type Entry,
  encodeEntry,
  type StoreBatch,
  StoreClosedError,
  StoreCorruptError,
  StoreKeyMismatchError,
  StoreLockedError,
  validateBatch
} from '@dntkit/core'
import { JournalLedger, removeReplaced } from './compaction.js'
import { DEFAULT_COMPACTION, FILE_STORE_LABEL, LOCK_FILE, LOGGER_NAME } from './constants.js'
import type { FileStore, FileStoreInit } from './file-store-init.js'
import { ensureDirectory, errorCode, syncDirectory } from './file-system.js'
import { Journal } from './journal.js'
import { acquireLock, type Lock } from './lock.js'
import { quarantineFiles } from './quarantine.js'
import { fileName, isUnsupportedVersion, SNAPSHOT } from './record-format.js'
import { encodeBatch } from './record-payload.js'
import { listDirectory, type Recovered, recover } from './recovery.js'
import { writeSnapshot } from './snapshot.js'
import { WarningEmitter } from './warnings.js'

class DirectoryStore extends WarningEmitter implements FileStore {
  private phase: 'closed' | 'opening' | 'open' | 'closing' = 'closed'
  private directory: string
  private key?: Aead
  private lock?: Lock
  private storeId: Uint8Array = new Uint8Array(16)
  private entries = new Map<string, Uint8Array>()
  private liveBytes = 0
  private journal?: Journal
  private readonly ledger: JournalLedger
  private queue: Promise<unknown> = Promise.resolve()
  private snapshotting?: Promise<void>
  private compactionQueued = false
  private opening?: Promise<Entry[]>
  private closing?: Promise<void>

  constructor(private readonly init: FileStoreInit) {
    super((init.logger ?? defaultLogger)(LOGGER_NAME), init.onWarning)
    this.directory = init.directory
    this.ledger = new JournalLedger(
      init.compaction === false ? undefined : { ...DEFAULT_COMPACTION, ...init.compaction }
    )
  }

  async open(): Promise<Entry[]> {
    if (this.phase !== 'closed')
      throw new StoreLockedError(`${this.directory}: this store is already open`)
    this.phase = 'opening'
    this.closing = undefined
    this.opening = this.recoverAndOpen()
    try {
      return await this.opening
    } catch (error) {
      await this.journal?.close().catch(() => {})
      await this.lock?.release().catch(() => {})
      this.reset()
      throw error
    }
  }

  private async recoverAndOpen(): Promise<Entry[]> {
    // a bad key fails before anything is created
    this.key ??= await createAead(this.init, FILE_STORE_LABEL)
    const key = this.key
    const { exposed } = await ensureDirectory(this.init.directory, 'fileStore directory')
    const directory = await realpath(this.init.directory)
    this.directory = directory
    if (exposed) {
      this.warn('exposed-directory', directory, `${directory} is accessible to group or others`)
    }
    const lockPath = join(directory, LOCK_FILE)
    this.lock = await acquireLock(lockPath, `store directory ${directory}`, (pid) => {
      this.warn(
        'stale-lock',
        lockPath,
        `took over the lock of process ${pid ?? '(unknown)'}, which is gone`
      )
    })
    const listing = await listDirectory(directory)
    let recovered: Recovered | undefined
    if (listing.snapshot !== undefined || listing.journals.length > 0) {
      try {
        recovered = await recover(directory, listing, key)
      } catch (error) {
        if (this.init.quarantine !== true || !quarantinable(error)) throw error
        const target = await quarantineFiles(directory, listing.storeFiles)
        this.warn(
          'quarantined',
          target,
          `${describeError(error)}; store files moved to ${target}, starting empty`
        )
        listing.leftovers = []
      }
    }
    for (const name of listing.leftovers) {
      // a leftover that cannot be removed is harmless: it is ignored by every open
      await unlink(join(directory, name)).catch((error) => {
        if (errorCode(error) !== 'ENOENT')
          this.log.error('cannot remove %s: %s', name, describeError(error))
      })
    }
    if (listing.leftovers.length > 0) await syncDirectory(directory)
    if (recovered === undefined) {
      this.storeId = new Uint8Array(randomBytes(16))
      this.journal = await Journal.create(directory, 1, this.storeId, key)
      this.ledger.reset([{ generation: 1, bytes: this.journal.bytes, records: 0 }])
      this.phase = 'open'
      this.log('opened new store in %s', directory)
      return []
    }
    const active = recovered.journals.at(-1) as Recovered['journals'][number]
    this.journal = await Journal.resume(
      active.file.path,
      active.file.header,
      key,
      active.validEnd,
      active.records
    )
    if (active.tail !== undefined) {
      const cut = active.file.bytes.byteLength - active.validEnd
      this.warn(
        'torn-tail',
        active.file.path,
        `cut off ${cut} bytes at offset ${active.validEnd} (${active.tail.reason}): the last append was interrupted`
      )
    }
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
    this.phase = 'open'
    this.log(
      'opened %s: %d entries, %d journal(s)',
      directory,
      this.entries.size,
      this.ledger.count
    )
    return recovered.decoded
  }

  async apply(batch: StoreBatch): Promise<void> {
    if (this.phase !== 'open')
      throw new StoreClosedError(`${this.directory}: the store is not open`)
    const { put, delete: remove } = validateBatch(batch)
    // encoded now: later changes to the caller's objects change nothing stored
    const puts = put.map((entry) => ({ id: entry.id, encoded: encodeEntry(entry) }))
    const deletes = remove.slice()
    return this.serialize(() => this.commit(puts, deletes))
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task)
    this.queue = run.catch(() => {})
    return run
  }

  private async commit(
    puts: { id: string; encoded: Uint8Array }[],
    deletes: string[]
  ): Promise<void> {
    const putIds = new Set(puts.map((put) => put.id))
    const effective = [...new Set(deletes)].filter((id) => this.entries.has(id) || putIds.has(id))
    if (puts.length === 0 && effective.length === 0) return
    const journal = this.journal as Journal
    const written = await journal.append(
      encodeBatch(
        puts.map((put) => put.encoded),
        effective
      )
    )
    this.ledger.appended(written)
    for (const { id, encoded } of puts) {
      this.liveBytes += encoded.byteLength - (this.entries.get(id)?.byteLength ?? 0)
      this.entries.set(id, encoded)
    }
    for (const id of effective) {
      this.liveBytes -= this.entries.get(id)?.byteLength ?? 0
      this.entries.delete(id)
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
    if (this.phase !== 'open')
      throw new StoreClosedError(`${this.directory}: the store is not open`)
    const { written } = await this.serialize(() => this.startCompaction())
    const error = await written
    if (error !== undefined) throw error
  }

  async close(): Promise<void> {
    // a close during open waits for the open, then closes what it opened
    if (this.phase === 'opening') await this.opening?.catch(() => {})
    if (this.phase === 'closing' && this.closing !== undefined) return this.closing
    if (this.phase !== 'open') return
    this.phase = 'closing'
    this.closing = (async () => {
      await this.queue
      await this.snapshotting
      try {
        await this.journal?.close()
      } finally {
        await this.lock?.release()
        this.reset()
        this.log('closed %s', this.directory)
      }
    })()
    return this.closing
  }

  private reset(): void {
    this.phase = 'closed'
    this.journal = undefined
    this.lock = undefined
    this.entries = new Map()
    this.liveBytes = 0
    this.ledger.reset([])
    this.compactionQueued = false
  }
}

function quarantinable(error: unknown): boolean {
  if (StoreKeyMismatchError.isInstance(error)) return true
  // a newer format version is not damage: never move it aside
  return StoreCorruptError.isInstance(error) && !isUnsupportedVersion(error)
}

/**
 * An encrypted, crash-safe `Store` in a directory: an append-only journal of
 * AES-256-GCM sealed batch records plus a snapshot, compacted in the
 * background. See the README for the byte layout and the guarantees.
 */
export function fileStore(init: FileStoreInit): FileStore {
  if (init == null || typeof init !== 'object')
    throw new TypeError('fileStore: init must be an object')
  if (typeof init.directory !== 'string' || init.directory.length === 0) {
    throw new TypeError('fileStore: directory must be a non-empty string')
  }
  if (init.privateKey == null && init.key == null) {
    throw new TypeError('fileStore: privateKey or key is required to encrypt the store')
  }
  return new DirectoryStore(init)
}

import { readFile } from 'node:fs/promises'
import {
  DecryptionError,
  type Entry,
  type Store,
  StoreCorruptError,
  StoreKeyMismatchError
} from '@dntkit/core'
import {
  AbstractStore,
  decodeEntry,
  encodeEntry,
  open as openSealed,
  seal,
  type ValidBatch
} from '@dntkit/core/plugin'
import initSqlJs, { type Database, type SqlJsStatic } from 'sql.js'
import { writeDurably } from './durable-write.js'
import { acquireLock } from './lock-file.js'

/** Options of `sqliteStore()`. */
export interface SqliteStoreInit {
  /** The database file (created by the first apply; its directory must exist). */
  file: string
  /**
   * AES-256-GCM key to seal each record with, e.g.
   * `await deriveStoreKey(node.privateKey, 'my-app/sqlite-store/v1')`.
   * Without it records are stored in clear.
   */
  key?: CryptoKey
  /** Read only: no lock is taken, nothing is written, `apply()` is refused (default false). */
  readOnly?: boolean
}

// position keeps the first-put order that open() must return; a put of an
// existing id updates the record in place and so keeps its position; one
// deleted and put in the same batch gets a new position, at the end
const SCHEMA = `CREATE TABLE IF NOT EXISTS entries (
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  record BLOB NOT NULL
)`
const UPSERT =
  'INSERT INTO entries (id, record) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record'
const DELETE = 'DELETE FROM entries WHERE id = ?'
const SELECT = 'SELECT id, record FROM entries ORDER BY position'

const textEncoder = new TextEncoder()

let engine: Promise<SqlJsStatic> | undefined

/** The SQLite WASM module, loaded once per process. */
function loadEngine(): Promise<SqlJsStatic> {
  engine ??= initSqlJs()
  return engine
}

/** Binds a sealed record to its id, so records cannot be swapped between rows. */
function associatedData(id: string): Uint8Array {
  return textEncoder.encode(`sqlite-store/v1:${id}`)
}

/**
 * `AbstractStore` does the rest: it validates and copies every batch, runs
 * open / apply / close one at a time in call order, refuses an apply before
 * `open()`, after `close()` or on a read-only store. Only the primitives are here.
 */
class SqliteStore extends AbstractStore {
  private database: Database | undefined
  /** Set while the store is open for writing (the lock is held). */
  private releaseLock: (() => Promise<void>) | undefined

  constructor(private readonly init: SqliteStoreInit) {
    super({ name: `sqlite store ${init.file}`, readOnly: init.readOnly ?? false })
  }

  protected async _open(): Promise<Entry[]> {
    // a reader takes no lock: it never writes, so it cannot get in a writer's way
    const releaseLock = this.readOnly
      ? async () => {}
      : await acquireLock(`${this.init.file}.lock`, this.init.file)
    try {
      const database = await this.load()
      const entries = await this.readEntries(database)
      this.database = database
      this.releaseLock = releaseLock
      return entries
    } catch (error) {
      await releaseLock()
      throw error
    }
  }

  /** The last durable state: the file's bytes, or an empty database. */
  private async load(): Promise<Database> {
    const SQL = await loadEngine()
    let bytes: Uint8Array | undefined
    try {
      bytes = await readFile(this.init.file)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    const database = new SQL.Database(bytes)
    try {
      database.run(SCHEMA)
    } catch (error) {
      database.close()
      throw new StoreCorruptError(`${this.init.file} is not a SQLite database`, { cause: error })
    }
    return database
  }

  private async readEntries(database: Database): Promise<Entry[]> {
    const rows = database.exec(SELECT)[0]?.values ?? []
    const entries: Entry[] = []
    for (const [id, record] of rows) {
      try {
        let bytes = record as Uint8Array
        if (this.init.key !== undefined) {
          bytes = await openSealed(this.init.key, bytes, associatedData(id as string))
        }
        entries.push(decodeEntry(bytes))
      } catch (error) {
        database.close()
        if (DecryptionError.isInstance(error)) {
          throw new StoreKeyMismatchError(
            `${this.init.file}: entry "${id}" does not decrypt with this key`,
            { cause: error }
          )
        }
        throw new StoreCorruptError(`${this.init.file}: entry "${id}" cannot be decoded`, {
          cause: error
        })
      }
    }
    return entries
  }

  protected async _apply({ put, delete: ids }: ValidBatch): Promise<void> {
    const records = put.map((entry) => ({ id: entry.id, bytes: encodeEntry(entry) }))
    await this.commit(records, ids)
  }

  private async commit(records: Array<{ id: string; bytes: Uint8Array }>, ids: string[]) {
    const key = this.init.key
    if (key !== undefined) {
      for (const record of records) {
        record.bytes = await seal(key, record.bytes, associatedData(record.id))
      }
    }
    const database = this.database as Database
    // one SQLite transaction: all of the batch or none of it
    const upsert = database.prepare(UPSERT)
    const remove = database.prepare(DELETE)
    database.run('BEGIN')
    try {
      // deletes first: an id both deleted and put moves to the end (a new position)
      for (const id of ids) remove.run([id])
      for (const record of records) upsert.run([record.id, record.bytes])
      database.run('COMMIT')
    } catch (error) {
      database.run('ROLLBACK')
      throw error
    } finally {
      upsert.free()
      remove.free()
    }
    try {
      // durable before apply() resolves: the whole database, written atomically
      await writeDurably(this.init.file, database.export())
    } catch (error) {
      // memory is ahead of the disk now: go back to what the disk holds
      database.close()
      this.database = undefined // if reloading fails too, the store stays unusable until reopened
      this.database = await this.load()
      throw error
    }
  }

  protected async _close(): Promise<void> {
    this.database?.close()
    this.database = undefined
    await this.releaseLock?.()
    this.releaseLock = undefined
  }
}

/**
 * A dntkit `Store` on SQLite (sql.js, pure WebAssembly). Each `apply` is one
 * transaction, then the database file is replaced atomically and durably.
 */
export function sqliteStore(init: SqliteStoreInit): Store {
  if (init == null || typeof init.file !== 'string' || init.file.length === 0) {
    throw new TypeError('sqliteStore: file must be a non-empty string')
  }
  return new SqliteStore(init)
}

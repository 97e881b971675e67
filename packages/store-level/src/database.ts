import { StoreCorruptError, StoreLockedError } from '@dntkit/core'
import type { AbstractBatchOptions, AbstractLevel } from 'abstract-level'
import type { LevelDatabase } from './init.js'
import type { RootDatabase } from './platform.js'

/** The store's sublevel: binary keys (without the sublevel prefix) and values. */
export type Namespace = AbstractLevel<unknown, Uint8Array, Uint8Array>

/** One change to a key of the namespace. */
export type Operation =
  | { type: 'put'; key: Uint8Array; value: Uint8Array }
  | { type: 'del'; key: Uint8Array }

/** The database as the store uses it. */
export interface StoreDatabase {
  /** The store's sublevel, for reads. */
  readonly namespace: Namespace
  /**
   * Applies `operations` (namespace keys) as one atomic batch that LevelDB
   * fsyncs before resolving (`sync: true`). Written to the root database with
   * the sublevel's prefix added here: a sublevel's own `batch` re-encodes
   * every operation once more, which halves the write rate.
   */
  write(operations: Operation[]): Promise<void>
  /** Closes what the store opened (never an application's database). */
  release(): Promise<void>
}

/** Binary keys and values: what every database the store opens uses. */
export const binary = { keyEncoding: 'view', valueEncoding: 'view' } as const
const durable = { ...binary, sync: true } as AbstractBatchOptions<Uint8Array, Uint8Array>

// Sublevels of application databases held by a store of this process: root database -> prefixes.
const held = new WeakMap<object, Set<string>>()

function code(error: unknown): unknown {
  return error != null && typeof error === 'object' ? (error as { code?: unknown }).code : undefined
}

function hasCode(error: unknown, wanted: string): boolean {
  return code(error) === wanted || code((error as { cause?: unknown } | null)?.cause) === wanted
}

type Root = RootDatabase

function storeDatabase(
  root: Root,
  namespace: Namespace,
  release: () => Promise<void>
): StoreDatabase {
  const prefixBytes = namespace.prefixKey(new Uint8Array(0), 'view')
  const prefixed = (key: Uint8Array): Uint8Array => {
    const out = new Uint8Array(prefixBytes.byteLength + key.byteLength)
    out.set(prefixBytes, 0)
    out.set(key, prefixBytes.byteLength)
    return out
  }
  return {
    namespace,
    async write(operations) {
      const rooted = operations.map((operation) =>
        operation.type === 'put'
          ? { type: 'put' as const, key: prefixed(operation.key), value: operation.value }
          : { type: 'del' as const, key: prefixed(operation.key) }
      )
      await root.batch(rooted, durable)
    },
    release
  }
}

/**
 * Opens (and owns) `db`, the database a platform created for a `location`;
 * maps the database's lock and corruption errors.
 */
export async function openOwnDatabase(
  db: Root,
  prefix: string,
  where: string
): Promise<StoreDatabase> {
  try {
    await db.open()
  } catch (error) {
    if (hasCode(error, 'LEVEL_LOCKED')) {
      throw new StoreLockedError(
        `${where} is locked: another process, or another store of this process, has the database open`,
        { cause: error }
      )
    }
    if (hasCode(error, 'LEVEL_CORRUPTION')) {
      throw new StoreCorruptError(`${where}: LevelDB reports corruption when opening`, {
        cause: error
      })
    }
    throw error
  }
  const namespace = db.sublevel<Uint8Array, Uint8Array>(prefix, binary) as unknown as Namespace
  return storeDatabase(db, namespace, () => db.close())
}

/**
 * The name of the cross-context lock of the store in sublevel `prefix` of
 * `db` (its own database, or an application's database or sublevel): the
 * database's name and the sublevel's full prefix, so every store on the same
 * keys, own or inside an application's database, takes the same lock. A
 * database without a location (memory-level) lives in one context only: no
 * name, no lock.
 */
export function lockName(db: LevelDatabase, prefix: string): string | undefined {
  const sublevel = db.sublevel(prefix, binary)
  const root = sublevel.db as { location?: unknown; namePrefix?: unknown }
  if (typeof root.location !== 'string') return undefined
  const namePrefix = typeof root.namePrefix === 'string' ? root.namePrefix : ''
  return `dntkit/store-level ${namePrefix}${root.location} ${sublevel.prefix}`
}

/**
 * Opens a sublevel of an application's database. The application's database
 * stays open when the store closes; a second store on the same sublevel in
 * this process gets `StoreLockedError`.
 */
export async function openInApplicationDatabase(
  db: LevelDatabase,
  prefix: string,
  where: string
): Promise<StoreDatabase> {
  const sublevel = db.sublevel<Uint8Array, Uint8Array>(prefix, binary)
  const root = sublevel.db as Root
  const prefixes = held.get(root) ?? new Set<string>()
  if (prefixes.has(sublevel.prefix)) {
    throw new StoreLockedError(`${where} is locked: another store of this process has it open`)
  }
  prefixes.add(sublevel.prefix)
  held.set(root, prefixes)
  try {
    await sublevel.open()
  } catch (error) {
    prefixes.delete(sublevel.prefix)
    throw new Error(
      `${where} cannot open: ${(error as Error).message} (the given database is ${db.status})`,
      {
        cause: error
      }
    )
  }
  return storeDatabase(root, sublevel as unknown as Namespace, async () => {
    prefixes.delete(sublevel.prefix)
    await sublevel.close()
  })
}

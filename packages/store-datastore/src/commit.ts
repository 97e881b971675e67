import type { Datastore, Key } from 'interface-datastore'

/** One change of a batch. */
export type Change = { type: 'put'; key: Key; value: Uint8Array } | { type: 'del'; key: Key }

/** The abstract-level database inside a datastore-level `LevelDatastore`. */
interface LevelBelow {
  batch(
    operations: Array<{ type: 'put' | 'del'; key: string; value?: Uint8Array }>,
    options: { sync: boolean }
  ): Promise<void>
}

/**
 * The LevelDB of a datastore-level datastore, when `datastore` is one: it
 * keeps its abstract-level database as `db`, with utf8 keys (the key's
 * string) and binary values. Anything else (another datastore, a wrapper) is
 * written through the `Datastore` interface.
 */
export function levelBelow(datastore: Datastore): LevelBelow | undefined {
  const db = (datastore as { db?: unknown }).db as Record<string, unknown> | null | undefined
  if (db == null || typeof db !== 'object') return undefined
  for (const method of ['batch', 'iterator', 'keyEncoding', 'valueEncoding'] as const) {
    if (typeof db[method] !== 'function') return undefined
  }
  const keyEncoding = (db.keyEncoding as () => { name?: unknown })()
  const valueEncoding = (db.valueEncoding as () => { name?: unknown })()
  if (keyEncoding?.name !== 'utf8' || valueEncoding?.name !== 'view') return undefined
  return db as unknown as LevelBelow
}

/**
 * Applies `changes` as one atomic batch. The `Datastore` interface has no
 * durability option and datastore-level's batch does not fsync, so for a
 * datastore-level datastore the same operations go to its LevelDB with
 * `sync: true` (LevelDB appends them to its log and fsyncs before the promise
 * resolves); any other datastore commits through its own `batch()` and is as
 * durable as it is.
 */
export async function commit(datastore: Datastore, changes: Change[]): Promise<void> {
  if (changes.length === 0) return
  const level = levelBelow(datastore)
  if (level !== undefined) {
    await level.batch(
      changes.map((change) =>
        change.type === 'put'
          ? { type: 'put' as const, key: change.key.toString(), value: change.value }
          : { type: 'del' as const, key: change.key.toString() }
      ),
      { sync: true }
    )
    return
  }
  const batch = datastore.batch()
  for (const change of changes) {
    if (change.type === 'put') batch.put(change.key, change.value)
    else batch.delete(change.key)
  }
  await batch.commit()
}

import type { Clock, Entry, Store } from '@dntkit/core'
import { utf8Length } from '@dntkit/core/plugin'
import {
  DEDUPE_LEVEL,
  DEDUPE_MAX_AGE,
  DEDUPE_MAX_BYTES_PER_PEER,
  DEDUPE_MAX_ENTRIES,
  DEDUPE_MAX_ENTRIES_PER_PEER
} from './constants.js'
import { DedupeStoreWriter } from './dedupe-store-writer.js'
import { PeerCounts } from './peer-counts.js'

/** How a receiver remembers the message ids it has processed. */
export interface DedupeInit {
  /** Ids remembered over all peers, at most (default 100,000). */
  maxEntries?: number
  /** Ids remembered per sending peer, at most (default 10,000); over it the peer forgets its own oldest. */
  maxEntriesPerPeer?: number
  /** UTF-8 bytes of message ids remembered per sending peer, at most (default 1 MiB). */
  maxBytesPerPeer?: number
  /** ms an id is remembered (default one day). */
  maxAge?: number
  /**
   * Keeps the window across restarts: any `Store` of dntkit (memory, file,
   * level). Each id is one entry: `id` = `<sender peer id>/<message id>`,
   * `peer` = the sender, `level` = `dedupe`, `createdAt` = when it was
   * processed, empty payload. The same quotas apply when it is loaded.
   */
  store?: Store
}

/** Told when ids of `peer` were forgotten before `maxAge` (a retry of one would run its handler again). */
export type EvictionListener = (
  peer: string,
  evicted: number,
  cause: 'peer-quota' | 'window'
) => void

interface Remembered {
  peer: string
  at: number
  bytes: number
}

/** The ids of one peer, oldest first. */
interface PeerIds {
  keys: Map<string, Remembered>
  bytes: number
  evicted: number
}

const EMPTY = new Uint8Array(0)

function positive(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback
  if (!Number.isSafeInteger(resolved) || resolved < 1)
    throw new TypeError(`dedupe.${name} must be an integer >= 1, got ${resolved}`)
  return resolved
}

/**
 * The ids processed recently, bounded by age, by count over all peers, and
 * per sending peer by count and bytes. A peer over its quota forgets its own
 * oldest ids; over the global bound, the peer holding the most ids forgets
 * its oldest, so a flood from one peer never evicts the ids of a peer that
 * holds fewer. Lookups are in memory; with a store, additions and evictions
 * are written behind with group commit and `add()` resolves once its record
 * is durable.
 */
export class DedupeWindow {
  private readonly seen = new Map<string, Remembered>()
  private readonly peers = new Map<string, PeerIds>()
  private readonly counts = new PeerCounts()
  private readonly maxEntries: number
  private readonly maxEntriesPerPeer: number
  private readonly maxBytesPerPeer: number
  private readonly maxAge: number
  private readonly store: Store | undefined
  private readonly writer: DedupeStoreWriter | undefined
  private opened = false
  /** Ids forgotten before `maxAge` since the window was created. */
  evicted = 0

  constructor(
    init: DedupeInit,
    private readonly clock: Clock,
    private readonly onEvicted?: EvictionListener
  ) {
    this.maxEntries = positive(init.maxEntries, DEDUPE_MAX_ENTRIES, 'maxEntries')
    this.maxEntriesPerPeer = positive(
      init.maxEntriesPerPeer,
      Math.min(DEDUPE_MAX_ENTRIES_PER_PEER, this.maxEntries),
      'maxEntriesPerPeer'
    )
    this.maxBytesPerPeer = positive(
      init.maxBytesPerPeer,
      DEDUPE_MAX_BYTES_PER_PEER,
      'maxBytesPerPeer'
    )
    this.maxAge = init.maxAge ?? DEDUPE_MAX_AGE
    if (typeof this.maxAge !== 'number' || !(this.maxAge > 0)) {
      throw new TypeError(`dedupe.maxAge must be a number of ms > 0, got ${this.maxAge}`)
    }
    this.store = init.store
    if (this.store != null) this.writer = new DedupeStoreWriter(this.store)
  }

  /** Ids remembered now. */
  get size(): number {
    return this.seen.size
  }

  /** Peers with ids remembered now. */
  get peerCount(): number {
    return this.peers.size
  }

  /** The UTF-8 bytes of message ids a peer may have remembered (for checking `maxIdBytes` against it). */
  get peerByteQuota(): number {
    return this.maxBytesPerPeer
  }

  /** Loads what the store kept, oldest first, under the same quotas; drops what is too old. */
  async open(): Promise<void> {
    if (this.opened) return
    if (this.store != null) {
      const loaded = await this.store.open()
      const records: Entry[] = []
      for await (const entry of loaded) records.push(entry)
      records.sort((a, b) => a.createdAt - b.createdAt)
      const oldest = this.clock.now() - this.maxAge
      for (const entry of records) {
        // what expired meanwhile goes first, so it never pushes out what did not
        if (entry.createdAt < oldest) this.writer?.delete(entry.id)
        else this.remember(entry.id, entry.peer, entry.createdAt)
      }
      if ((this.writer as DedupeStoreWriter).size > 0) await this.writer?.flush()
    }
    this.opened = true
  }

  has(key: string): boolean {
    const remembered = this.seen.get(key)
    if (remembered == null) return false
    if (this.clock.now() - remembered.at <= this.maxAge) return true
    this.expire()
    return false
  }

  /** Remembers `key` (`<peer>/<message id>`); resolves when it is durable (at once without a store). */
  add(key: string, record: { peer: string; protocol: string }): Promise<void> {
    const at = this.clock.now()
    this.expire()
    this.remember(key, record.peer, at)
    if (this.writer == null) return Promise.resolve()
    this.writer.put({
      id: key,
      peer: record.peer,
      protocol: record.protocol,
      payload: EMPTY,
      level: DEDUPE_LEVEL,
      attempts: 0,
      createdAt: at,
      nextAttemptAt: at
    })
    return this.writer.flush()
  }

  /** Waits for pending writes, then closes the store. */
  async close(): Promise<void> {
    if (!this.opened) return
    this.opened = false
    await this.writer?.settle()
    await this.store?.close()
  }

  private remember(key: string, peer: string, at: number): void {
    this.forget(key)
    let ids = this.peers.get(peer)
    if (ids === undefined) {
      ids = { keys: new Map(), bytes: 0, evicted: 0 }
      this.peers.set(peer, ids)
    }
    // the message id's bytes: the key is `<peer>/<id>`, and peer ids are ASCII
    const remembered = { peer, at, bytes: Math.max(0, utf8Length(key) - peer.length - 1) }
    ids.keys.set(key, remembered)
    ids.bytes += remembered.bytes
    this.seen.set(key, remembered)
    this.counts.increment(peer)
    while (ids.keys.size > this.maxEntriesPerPeer || ids.bytes > this.maxBytesPerPeer)
      this.evictOldest(peer, 'peer-quota')
    while (this.seen.size > this.maxEntries) {
      const largest = this.counts.largest()
      if (largest === undefined) break
      this.evictOldest(largest, 'window')
    }
  }

  /** Drops the ids older than `maxAge` (time order is insertion order). */
  private expire(): void {
    const oldest = this.clock.now() - this.maxAge
    for (const [key, remembered] of this.seen) {
      if (remembered.at >= oldest) break
      this.forget(key)
    }
  }

  private evictOldest(peer: string, cause: 'peer-quota' | 'window'): void {
    const ids = this.peers.get(peer)
    const first = ids?.keys.entries().next()
    if (ids === undefined || first === undefined || first.done === true) return
    const [key, remembered] = first.value
    this.forget(key)
    if (this.clock.now() - remembered.at > this.maxAge) return
    this.evicted++
    ids.evicted++
    // told at the 1st, 10th, 100th, ... id of that peer: a flood does not flood the log
    if (Number.isInteger(Math.log10(ids.evicted))) this.onEvicted?.(peer, ids.evicted, cause)
  }

  private forget(key: string): void {
    const remembered = this.seen.get(key)
    if (remembered === undefined) return
    this.seen.delete(key)
    const ids = this.peers.get(remembered.peer)
    if (ids !== undefined) {
      ids.keys.delete(key)
      ids.bytes -= remembered.bytes
      if (ids.keys.size === 0) this.peers.delete(remembered.peer)
    }
    this.counts.decrement(remembered.peer)
    this.writer?.delete(key)
  }
}

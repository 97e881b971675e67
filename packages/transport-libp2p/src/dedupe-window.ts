import type { Clock, Entry, Store } from '@dntkit/core'
import { utf8Length } from '@dntkit/core/plugin'
import {
  DEDUPE_LEVEL,
  DEDUPE_MAX_AGE,
  DEDUPE_MAX_BYTES,
  DEDUPE_MAX_BYTES_PER_PEER,
  DEDUPE_MAX_ENTRIES,
  DEDUPE_MAX_ENTRIES_PER_PEER,
  DEDUPE_MIN_AGE,
  DEDUPE_PROTECTED_PER_PEER
} from './constants.js'
import {
  DedupeMemory,
  type EvictionCause,
  type Processed,
  type ReplyState
} from './dedupe-memory.js'
import { DedupeStoreWriter } from './dedupe-store-writer.js'

/** How a receiver remembers the message ids it has processed. */
export interface DedupeInit {
  /** Ids remembered over all peers, at most (default 100,000). */
  maxEntries?: number
  /** Ids remembered per sending peer, at most (default 10,000); over it the peer forgets its own oldest. */
  maxEntriesPerPeer?: number
  /**
   * Bytes remembered per sending peer, at most (default 1 MiB): the UTF-8
   * bytes of its message ids plus its cached replies. Over it the peer's
   * oldest cached replies are given up first (their ids stay), then its
   * oldest ids.
   */
  maxBytesPerPeer?: number
  /**
   * Bytes remembered over all peers, at most (default 64 MiB): ids plus
   * cached replies. Over it the oldest cached replies are given up first,
   * then ids of the peer holding the most.
   */
  maxBytes?: number
  /** ms an id is remembered (default one day). */
  maxAge?: number
  /**
   * ms an id is safe from other peers' traffic (default 10 minutes, at most
   * `maxAge`), while it is one of its peer's `protectedPerPeer` most recent
   * ids. A full window forgets such an id only for its own peer's new id; a
   * new id that would need another peer's protected id gone is answered
   * `try-later` (`dedupe-full`) and its handler does not run. So a flood,
   * even from many fresh identities, cannot make the receiver run a handler
   * twice for a retry of a recent message.
   */
  minAge?: number
  /**
   * How many of a peer's most recent ids `minAge` protects (default 256, the
   * frames a sender may have in flight on a stream, but at most a hundredth
   * of `maxEntries`; 0 turns the protection off).
   */
  protectedPerPeer?: number
  /**
   * Keeps the window across restarts: any `Store` of dntkit (memory, file,
   * level). Each id is one entry: `id` = `<sender peer id>/<message id>`,
   * `peer` = the sender, `protocol` = the inner protocol, `level` =
   * `dedupe`, `createdAt` = when it was processed, `payload` = its cached
   * reply (else empty), `meta.reply` = `kept`, `dropped` or `too-large`
   * when the handler replied (absent: no reply). The same quotas apply when
   * it is loaded.
   */
  store?: Store
}

/** Told when ids of `peer` were forgotten before `maxAge` (a retry of one would run its handler again). */
export type EvictionListener = (peer: string, evicted: number, cause: EvictionCause) => void

/** What a handler's run left to remember with its id. */
export interface ReplyOutcome {
  /** The reply the handler returned (within `maxReplyBytes`). */
  reply?: Uint8Array
  /** The handler's reply passed `maxReplyBytes`: duplicates are refused as the first was. */
  tooLarge?: boolean
}

/** Key of a dedupe record's `meta` that says what became of its reply (see `ReplyState`). */
export const REPLY_META_KEY = 'reply'

const EMPTY = new Uint8Array(0)

function positive(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback
  if (!Number.isSafeInteger(resolved) || resolved < 1)
    throw new TypeError(`dedupe.${name} must be an integer >= 1, got ${resolved}`)
  return resolved
}

function replyStateOf(entry: Entry): ReplyState {
  const state = entry.meta?.[REPLY_META_KEY]
  return state === 'kept' || state === 'dropped' || state === 'too-large' ? state : 'none'
}

/**
 * The ids processed recently, with their handlers' replies, bounded by age,
 * by count (over all peers and per sending peer) and by bytes (ids plus
 * cached replies, over all peers and per peer). A peer over its quota gives
 * up its own oldest cached replies, then its own oldest ids, never another
 * peer's; over the global bounds, the oldest cached replies of all go first,
 * then ids of the peer holding the most (see `DedupeMemory`). Lookups are in
 * memory; with a store, additions, dropped replies and evictions are written
 * behind with group commit and `add()` resolves once its record is durable.
 */
export class DedupeWindow {
  private readonly memory: DedupeMemory
  private readonly maxAge: number
  private readonly store: Store | undefined
  private readonly writer: DedupeStoreWriter | undefined
  private readonly maxBytesPerPeer: number
  private opened = false

  constructor(
    init: DedupeInit,
    private readonly clock: Clock,
    onEvicted?: EvictionListener
  ) {
    this.maxAge = init.maxAge ?? DEDUPE_MAX_AGE
    if (typeof this.maxAge !== 'number' || !(this.maxAge > 0)) {
      throw new TypeError(`dedupe.maxAge must be a number of ms > 0, got ${this.maxAge}`)
    }
    const minAge = init.minAge ?? Math.min(DEDUPE_MIN_AGE, this.maxAge)
    if (typeof minAge !== 'number' || !(minAge >= 0) || minAge > this.maxAge) {
      throw new TypeError(
        `dedupe.minAge must be a number of ms from 0 to maxAge (${this.maxAge}), got ${minAge}`
      )
    }
    const maxEntries = positive(init.maxEntries, DEDUPE_MAX_ENTRIES, 'maxEntries')
    const protectedPerPeer =
      init.protectedPerPeer ?? Math.min(DEDUPE_PROTECTED_PER_PEER, Math.floor(maxEntries / 100))
    if (!Number.isSafeInteger(protectedPerPeer) || protectedPerPeer < 0) {
      throw new TypeError(
        `dedupe.protectedPerPeer must be an integer >= 0, got ${protectedPerPeer}`
      )
    }
    const maxBytes = positive(init.maxBytes, DEDUPE_MAX_BYTES, 'maxBytes')
    this.maxBytesPerPeer = positive(
      init.maxBytesPerPeer,
      Math.min(DEDUPE_MAX_BYTES_PER_PEER, maxBytes),
      'maxBytesPerPeer'
    )
    const limits = {
      maxEntries,
      maxEntriesPerPeer: positive(
        init.maxEntriesPerPeer,
        Math.min(DEDUPE_MAX_ENTRIES_PER_PEER, maxEntries),
        'maxEntriesPerPeer'
      ),
      maxBytesPerPeer: this.maxBytesPerPeer,
      maxBytes,
      minAge,
      protectedPerPeer
    }
    this.store = init.store
    const writer = this.store == null ? undefined : new DedupeStoreWriter(this.store)
    this.writer = writer
    this.memory = new DedupeMemory(limits, {
      forgotten: (key) => writer?.delete(key),
      replyDropped: (processed) => writer?.put(this.record(processed)),
      evicted: (peer, evicted, cause) => onEvicted?.(peer, evicted, cause)
    })
  }

  /** Ids remembered now. */
  get size(): number {
    return this.memory.size
  }

  /** Peers with ids remembered now. */
  get peerCount(): number {
    return this.memory.peerCount
  }

  /** Ids forgotten before `maxAge` since the window was created. */
  get evicted(): number {
    return this.memory.evicted
  }

  /** Replies cached now, and their bytes. */
  get replies(): { count: number; bytes: number; dropped: number } {
    return {
      count: this.memory.cachedReplies,
      bytes: this.memory.replyBytes,
      dropped: this.memory.repliesDropped
    }
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
      const now = this.clock.now()
      const oldest = now - this.maxAge
      for (const entry of records) {
        // what expired meanwhile goes first, so it never pushes out what did not
        if (entry.createdAt < oldest) this.writer?.delete(entry.id)
        else {
          const replyState = replyStateOf(entry)
          const processed = this.processed(entry.id, entry.peer, entry.protocol, entry.createdAt)
          processed.replyState = replyState
          if (replyState === 'kept') processed.reply = entry.payload
          this.memory.remember(processed, this.maxAge, now)
        }
      }
      if ((this.writer as DedupeStoreWriter).size > 0) await this.writer?.flush()
    }
    this.opened = true
  }

  /**
   * Ids younger than `minAge` of other peers forgotten anyway (only when more
   * new ids were admitted at once than the window had room for).
   */
  get protectedEvicted(): number {
    return this.memory.protectedEvicted
  }

  /**
   * Whether `key` (`<peer>/<message id>`, not in the window) may be processed
   * now: its id fits without forgetting another peer's id younger than
   * `minAge`, with `reserved` ids admitted and not yet added.
   */
  admits(key: string, peer: string, reserved = 0): boolean {
    const now = this.clock.now()
    this.memory.expire(now - this.maxAge)
    const idBytes = this.processed(key, peer, '', now).idBytes
    return this.memory.admits(peer, idBytes, reserved, now)
  }

  has(key: string): boolean {
    return this.lookup(key) !== undefined
  }

  /** What the window remembers of `key` (`<peer>/<message id>`), if it is in the window. */
  lookup(key: string): Processed | undefined {
    const processed = this.memory.get(key)
    if (processed == null) return undefined
    if (this.clock.now() - processed.at <= this.maxAge) return processed
    this.memory.expire(this.clock.now() - this.maxAge)
    return undefined
  }

  /**
   * Remembers `key` (`<peer>/<message id>`) with what became of its reply;
   * resolves when it is durable (at once without a store).
   */
  add(
    key: string,
    record: { peer: string; protocol: string },
    outcome: ReplyOutcome = {}
  ): Promise<void> {
    const now = this.clock.now()
    this.memory.expire(now - this.maxAge)
    const processed = this.processed(key, record.peer, record.protocol, now)
    if (outcome.tooLarge === true) processed.replyState = 'too-large'
    else if (outcome.reply !== undefined) {
      processed.replyState = 'kept'
      processed.reply = outcome.reply
    }
    this.memory.remember(processed, this.maxAge, now)
    if (this.writer == null) return Promise.resolve()
    this.writer.put(this.record(processed))
    return this.writer.flush()
  }

  /** Waits for pending writes, then closes the store. */
  async close(): Promise<void> {
    if (!this.opened) return
    this.opened = false
    await this.writer?.settle()
    await this.store?.close()
  }

  private processed(key: string, peer: string, protocol: string, at: number): Processed {
    // the message id's bytes: the key is `<peer>/<id>`, and peer ids are ASCII
    const idBytes = Math.max(0, utf8Length(key) - peer.length - 1)
    return { key, peer, protocol, at, idBytes, replyState: 'none' }
  }

  /** The store record of `processed`: its reply (if cached) as the payload, its state in meta. */
  private record(processed: Processed): Entry {
    const entry: Entry = {
      id: processed.key,
      peer: processed.peer,
      protocol: processed.protocol,
      payload: processed.reply ?? EMPTY,
      level: DEDUPE_LEVEL,
      attempts: 0,
      createdAt: processed.at,
      nextAttemptAt: processed.at
    }
    if (processed.replyState !== 'none') entry.meta = { [REPLY_META_KEY]: processed.replyState }
    return entry
  }
}

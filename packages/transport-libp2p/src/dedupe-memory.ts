import { PeerCounts } from './peer-counts.js'

/**
 * What a receiver remembers of the reply to a processed id:
 * - `none`: the handler gave no reply;
 * - `kept`: the reply is cached (`Processed.reply`) and goes with a duplicate's ack;
 * - `dropped`: it had one, given up to keep the window within its byte quotas
 *   (a duplicate is acked without it);
 * - `too-large`: the handler's reply passed `maxReplyBytes` (a duplicate is
 *   answered `rejected` / `reply-too-large`, as the first was).
 */
export type ReplyState = 'none' | 'kept' | 'dropped' | 'too-large'

/** One id the window remembers. */
export interface Processed {
  /** `<sender peer id>/<message id>`. */
  key: string
  peer: string
  protocol: string
  /** When it was processed (ms, the window's clock). */
  at: number
  /** UTF-8 bytes of the message id. */
  idBytes: number
  replyState: ReplyState
  /** The cached reply, while `replyState` is `kept`. */
  reply?: Uint8Array
}

/** The bounds of the window. */
export interface DedupeLimits {
  maxEntries: number
  maxEntriesPerPeer: number
  maxBytesPerPeer: number
  maxBytes: number
  /**
   * ms, and count per peer, an id is safe from other peers' traffic: a full
   * window forgets one of a peer's `protectedPerPeer` most recent ids younger
   * than `minAge` only for that peer's own new id (see `DedupeMemory`).
   */
  minAge: number
  protectedPerPeer: number
}

/** Why ids were forgotten before `maxAge`. */
export type EvictionCause = 'peer-quota' | 'window'

/** What the index tells its owner. */
export interface DedupeMemoryEvents {
  /** `key` left the index (expired, evicted or replaced). */
  forgotten(key: string): void
  /** The cached reply of `processed` was given up; the id stays. */
  replyDropped(processed: Processed): void
  /** Ids of `peer` were forgotten before `maxAge` (the `evicted`-th of that peer). */
  evicted(peer: string, evicted: number, cause: EvictionCause): void
}

/** The ids of one peer, oldest first, and its cached replies, oldest first. */
interface PeerIds {
  keys: Map<string, Processed>
  replies: Map<string, Processed>
  idBytes: number
  replyBytes: number
  evicted: number
}

/**
 * The in-memory side of the dedupe window: ids by key, per peer and over all
 * peers in the order they were processed, with their cached replies. Bytes
 * are the ids' UTF-8 bytes plus the cached replies'. Over a byte quota,
 * cached replies go first (the peer's own oldest for `maxBytesPerPeer`, the
 * oldest of all for `maxBytes`), their ids stay; only when the ids alone
 * pass it are ids forgotten. Over a count, ids are forgotten: the peer's own
 * oldest for `maxEntriesPerPeer`; for `maxEntries` (and for `maxBytes`
 * passed by ids alone) an unprotected id: the oldest of the peer holding the
 * most, else the oldest of all. An id is protected while it is one of its
 * peer's `protectedPerPeer` most recent ids and younger than `minAge`: it is
 * forgotten for the window only for its own peer's new id (its retries are
 * its own business). So a flood, from one peer or from many fresh
 * identities, cannot make the window forget another peer's recent ids, whose
 * retries (after a lost ack) are what the window is for. `admits()` tells a
 * receiver beforehand whether a new id of a peer fits under that rule: when
 * it does not, the receiver answers `try-later` instead of running the handler.
 */
export class DedupeMemory {
  private readonly seen = new Map<string, Processed>()
  private readonly peers = new Map<string, PeerIds>()
  /** Every cached reply, oldest first. */
  private readonly replies = new Map<string, Processed>()
  private readonly counts = new PeerCounts()
  private idBytes = 0
  /** Bytes of the cached replies. */
  replyBytes = 0
  /** Ids forgotten before `maxAge`. */
  evicted = 0
  /** Replies given up to stay within the byte quotas while their id was kept. */
  repliesDropped = 0
  /**
   * Ids younger than `minAge` of another peer forgotten anyway: only when
   * more new ids were admitted at once than the window had room for.
   */
  protectedEvicted = 0

  constructor(
    private readonly limits: DedupeLimits,
    private readonly events: DedupeMemoryEvents
  ) {}

  get size(): number {
    return this.seen.size
  }

  get peerCount(): number {
    return this.peers.size
  }

  /** Replies cached now. */
  get cachedReplies(): number {
    return this.replies.size
  }

  get(key: string): Processed | undefined {
    return this.seen.get(key)
  }

  /** Remembers `processed` (replacing what `key` held), then brings the window within its bounds. */
  remember(processed: Processed, maxAge: number, now: number): void {
    this.forget(processed.key)
    const { peer } = processed
    let ids = this.peers.get(peer)
    if (ids === undefined) {
      ids = { keys: new Map(), replies: new Map(), idBytes: 0, replyBytes: 0, evicted: 0 }
      this.peers.set(peer, ids)
    }
    const { maxBytesPerPeer, maxBytes, maxEntries, maxEntriesPerPeer } = this.limits
    // a reply that could never fit beside the ids is not cached, and pushes out no other
    const size = processed.idBytes + (processed.reply?.byteLength ?? 0)
    if (
      processed.reply !== undefined &&
      (ids.idBytes + size > maxBytesPerPeer || this.idBytes + size > maxBytes)
    ) {
      this.drop(processed)
    }
    ids.keys.set(processed.key, processed)
    this.seen.set(processed.key, processed)
    this.add(ids, processed)
    this.counts.increment(peer)
    while (ids.idBytes + ids.replyBytes > maxBytesPerPeer && ids.replies.size > 0)
      this.dropReply(ids.replies.values().next().value as Processed)
    while (ids.keys.size > maxEntriesPerPeer || ids.idBytes + ids.replyBytes > maxBytesPerPeer)
      this.evictOldest(peer, 'peer-quota', maxAge, now)
    while (this.idBytes + this.replyBytes > maxBytes && this.replies.size > 0)
      this.dropReply(this.replies.values().next().value as Processed)
    while (this.seen.size > maxEntries || this.idBytes > maxBytes) {
      const victim = this.windowVictim(peer, processed.key, now)
      if (victim === undefined) break
      this.evict(victim, 'window', maxAge, now)
    }
  }

  /**
   * Whether a new id of `peer` (`idBytes` long) fits without forgetting
   * another peer's id younger than `minAge`, with `reserved` more ids
   * already admitted and not yet remembered.
   */
  admits(peer: string, idBytes: number, reserved: number, now: number): boolean {
    const { maxEntries, maxBytes } = this.limits
    if (this.seen.size + reserved < maxEntries && this.idBytes + idBytes <= maxBytes) return true
    const largest = this.counts.largest()
    const candidate = largest === undefined ? undefined : this.oldestOf(largest)
    if (candidate !== undefined && !this.isProtected(candidate, now)) return true
    const oldest = this.oldest()
    if (oldest !== undefined && !this.isProtected(oldest, now)) return true
    return this.oldestOf(peer) !== undefined
  }

  /** Forgets the ids processed before `oldest` (time order is insertion order). */
  expire(oldest: number): void {
    for (const [key, processed] of this.seen) {
      if (processed.at >= oldest) break
      this.forget(key)
    }
  }

  forget(key: string): void {
    const processed = this.seen.get(key)
    if (processed === undefined) return
    this.seen.delete(key)
    const ids = this.peers.get(processed.peer)
    if (ids !== undefined) {
      ids.keys.delete(key)
      this.remove(ids, processed)
      if (ids.keys.size === 0) this.peers.delete(processed.peer)
    }
    this.counts.decrement(processed.peer)
    this.events.forgotten(key)
  }

  private add(ids: PeerIds, processed: Processed): void {
    ids.idBytes += processed.idBytes
    this.idBytes += processed.idBytes
    if (processed.reply === undefined) return
    ids.replies.set(processed.key, processed)
    ids.replyBytes += processed.reply.byteLength
    this.replies.set(processed.key, processed)
    this.replyBytes += processed.reply.byteLength
  }

  private remove(ids: PeerIds, processed: Processed): void {
    ids.idBytes -= processed.idBytes
    this.idBytes -= processed.idBytes
    if (processed.reply === undefined) return
    ids.replies.delete(processed.key)
    ids.replyBytes -= processed.reply.byteLength
    this.replies.delete(processed.key)
    this.replyBytes -= processed.reply.byteLength
  }

  /** A reply that is not (or no longer) cached: its id stays. */
  private drop(processed: Processed): void {
    delete processed.reply
    processed.replyState = 'dropped'
    this.repliesDropped++
  }

  private dropReply(processed: Processed): void {
    const ids = this.peers.get(processed.peer)
    if (ids === undefined || processed.reply === undefined) return
    this.remove(ids, processed)
    this.drop(processed)
    this.add(ids, processed)
    this.events.replyDropped(processed)
  }

  private oldestOf(peer: string): Processed | undefined {
    return this.peers.get(peer)?.keys.values().next().value
  }

  private oldest(): Processed | undefined {
    return this.seen.values().next().value
  }

  /**
   * Whether the oldest id of its peer (`processed`) is protected: its peer
   * holds at most `protectedPerPeer` ids and it is younger than `minAge`.
   */
  private isProtected(processed: Processed, now: number): boolean {
    const held = this.peers.get(processed.peer)?.keys.size ?? 0
    return held <= this.limits.protectedPerPeer && now - processed.at < this.limits.minAge
  }

  /** The id a full window forgets when `adder` added `added` (see the class's rule). */
  private windowVictim(adder: string, added: string, now: number): Processed | undefined {
    const largest = this.counts.largest()
    const candidate = largest === undefined ? undefined : this.oldestOf(largest)
    if (candidate !== undefined && !this.isProtected(candidate, now)) return candidate
    const oldest = this.oldest()
    if (oldest !== undefined && !this.isProtected(oldest, now)) return oldest
    const own = this.oldestOf(adder)
    if (own !== undefined && own.key !== added) return own
    this.protectedEvicted++
    return candidate ?? oldest
  }

  private evictOldest(peer: string, cause: EvictionCause, maxAge: number, now: number): void {
    const oldest = this.oldestOf(peer)
    if (oldest !== undefined) this.evict(oldest, cause, maxAge, now)
  }

  private evict(processed: Processed, cause: EvictionCause, maxAge: number, now: number): void {
    const ids = this.peers.get(processed.peer)
    if (ids === undefined) return
    this.forget(processed.key)
    if (now - processed.at > maxAge) return
    this.evicted++
    ids.evicted++
    // told at the 1st, 10th, 100th, ... id of that peer: a flood does not flood the log
    if (Number.isInteger(Math.log10(ids.evicted)))
      this.events.evicted(processed.peer, ids.evicted, cause)
  }
}

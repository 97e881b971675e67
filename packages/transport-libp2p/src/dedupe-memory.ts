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
 * oldest for `maxEntriesPerPeer`, the oldest of the peer holding the most
 * for `maxEntries` (and for `maxBytes` passed by ids alone).
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
      const largest = this.counts.largest()
      if (largest === undefined) break
      this.evictOldest(largest, 'window', maxAge, now)
    }
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

  private evictOldest(peer: string, cause: EvictionCause, maxAge: number, now: number): void {
    const ids = this.peers.get(peer)
    const first = ids?.keys.values().next()
    if (ids === undefined || first === undefined || first.done === true) return
    const processed = first.value
    this.forget(processed.key)
    if (now - processed.at > maxAge) return
    this.evicted++
    ids.evicted++
    // told at the 1st, 10th, 100th, ... id of that peer: a flood does not flood the log
    if (Number.isInteger(Math.log10(ids.evicted))) this.events.evicted(peer, ids.evicted, cause)
  }
}

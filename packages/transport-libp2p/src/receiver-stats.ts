import type { BudgetUsage } from './memory-budget.js'

/** Why a receiver cut off (or refused) a stream. */
export type StreamErrorReason =
  /** Envelope: the bytes broke the wire format (prefix, type, sequence, UTF-8, meta). */
  | 'malformed'
  /** No complete frame (envelope), or no clean end of the stream (raw), for `idleTimeout`. */
  | 'idle'
  /** The peer already had `maxStreamsPerPeer` streams of that mode open: the new one was reset. */
  | 'too-many-streams'
  /** Envelope: more unacknowledged frames or bytes than `maxFramesInFlight` / `maxBytesInFlight`. */
  | 'too-many-frames'
  /**
   * Envelope: the peer does not read its acks: more than 2 MiB (plus one
   * reply) of them waited to be sent, or acks held its handlers back for
   * `idleTimeout`.
   */
  | 'ack-backlog'
  /** Raw: the message passed `maxMessageBytes`. */
  | 'too-large'
  /** What the stream was about to keep would pass the memory budget (total or the peer's share). */
  | 'over-budget'
  /** Raw: the peer passed its rate limit (one token per stream). */
  | 'rate-limited'
  /** Raw: the peer is not on `allow`, or `authorize` refused (or failed). */
  | 'unauthorized'
  /** Raw: the handler threw; the stream was reset. */
  | 'handler-error'
  /** Raw: the handler's reply passed `maxReplyBytes`; the stream was reset. */
  | 'reply-too-large'
  /** The remote reset or aborted the stream, ended it uncleanly, or writing to it failed. */
  | 'reset'
  /** The receiver stopped and the stream was still busy after `stopTimeout` (a handler still ran): it was reset. */
  | 'stopped'

/** What a receiver counted for raw streams. */
export interface RawStats {
  /** Raw streams being read or handled now. */
  activeStreams: number
  /** Raw streams accepted (refused ones not included). */
  streamsAccepted: number
  /** Raw messages whose handler resolved (the stream then closed cleanly). */
  messages: number
  /** Raw streams cut off or refused, by reason. */
  streamErrors: Partial<Record<StreamErrorReason, number>>
}

/** What a receiver counted since it was created (`receiver.stats()`). */
export interface ReceiverStats extends BudgetUsage {
  /** Envelope streams being served now. */
  activeStreams: number
  /** Envelope streams accepted (refused ones not included). */
  streamsAccepted: number
  /** Envelope messages whose handler resolved (acked `ok`). */
  messages: number
  /** Envelope messages acked `duplicate` without calling the handler. */
  duplicates: number
  /**
   * Duplicates acked without the reply their first ack carried: it had been
   * given up from the dedupe window to stay within its byte quotas.
   */
  duplicatesWithoutReply: number
  /** Envelope messages acked `rejected`, by code (`unauthorized`, `too-large`, `id-too-long`, `unknown-protocol`, a handler's code, ...). */
  rejected: Record<string, number>
  /** Envelope messages acked `try-later`, by code (`rate-limited`, `over-budget`, `dedupe-full`, `stopping`, `authorize-error`, `try-later`, ...). */
  tryLater: Record<string, number>
  /** Envelope streams cut off or refused, by reason. */
  streamErrors: Partial<Record<StreamErrorReason, number>>
  /** Raw streams: accepted, handled, refused. */
  raw: RawStats
  /** Ids in the dedupe window now (bounded by `dedupe.maxEntries`). */
  dedupeEntries: number
  /** Peers with ids in the dedupe window now. */
  dedupePeers: number
  /**
   * Ids the dedupe window forgot before `dedupe.maxAge` because their peer
   * passed its quota (or the window its bound): a retry of one of them would
   * run its handler again. Each is also logged (at the 1st, 10th, 100th, ...
   * of a peer).
   */
  dedupeEvicted: number
  /**
   * Ids younger than `dedupe.minAge` the window forgot anyway for another
   * peer's new id: only when more new ids were admitted at once than it had
   * room for (new ids are otherwise answered `try-later` / `dedupe-full`).
   */
  dedupeProtectedEvicted: number
  /** Replies cached in the dedupe window now (a duplicate gets its reply from there). */
  dedupeReplies: number
  /** Bytes of those replies. */
  dedupeReplyBytes: number
  /**
   * Replies given up from the dedupe window while their id was kept (over
   * `dedupe.maxBytesPerPeer` or `dedupe.maxBytes`): a duplicate of one is
   * acked without it (`duplicatesWithoutReply`).
   */
  dedupeRepliesDropped: number
  /** Peers whose rate-limit bucket is tracked now. */
  rateLimitedPeers: number
}

/** Live sizes the receiver adds to its counters. */
export type LiveStats = BudgetUsage &
  Pick<
    ReceiverStats,
    | 'activeStreams'
    | 'dedupeEntries'
    | 'dedupePeers'
    | 'dedupeEvicted'
    | 'dedupeProtectedEvicted'
    | 'dedupeReplies'
    | 'dedupeReplyBytes'
    | 'dedupeRepliesDropped'
    | 'rateLimitedPeers'
  > & { activeRawStreams: number }

function count<K extends string>(table: Partial<Record<K, number>>, key: K): void {
  table[key] = (table[key] ?? 0) + 1
}

/** The counters behind `stats()`. */
export class ReceiverCounters {
  streamsAccepted = 0
  messages = 0
  duplicates = 0
  duplicatesWithoutReply = 0
  rawStreamsAccepted = 0
  rawMessages = 0
  // no prototype: a handler's error code could be "__proto__"
  readonly rejected: Record<string, number> = Object.create(null)
  readonly tryLater: Record<string, number> = Object.create(null)
  readonly streamErrors: Partial<Record<StreamErrorReason, number>> = {}
  readonly rawStreamErrors: Partial<Record<StreamErrorReason, number>> = {}

  answered(status: 'rejected' | 'try-later', code: string): void {
    count(status === 'rejected' ? this.rejected : this.tryLater, code)
  }

  streamError(reason: StreamErrorReason, raw: boolean): void {
    count(raw ? this.rawStreamErrors : this.streamErrors, reason)
  }

  snapshot(live: LiveStats): ReceiverStats {
    const { activeRawStreams, ...rest } = live
    return {
      ...rest,
      streamsAccepted: this.streamsAccepted,
      messages: this.messages,
      duplicates: this.duplicates,
      duplicatesWithoutReply: this.duplicatesWithoutReply,
      rejected: { ...this.rejected },
      tryLater: { ...this.tryLater },
      streamErrors: { ...this.streamErrors },
      raw: {
        activeStreams: activeRawStreams,
        streamsAccepted: this.rawStreamsAccepted,
        messages: this.rawMessages,
        streamErrors: { ...this.rawStreamErrors }
      }
    }
  }
}

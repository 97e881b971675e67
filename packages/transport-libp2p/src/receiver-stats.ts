/** Why a receiver cut off (or refused) an envelope stream. */
export type StreamErrorReason =
  /** The bytes broke the wire format (prefix, type, sequence, UTF-8, meta). */
  | 'malformed'
  /** No complete frame for `idleTimeout` (a silent or trickling sender). */
  | 'idle'
  /** The peer already had `maxStreamsPerPeer` envelope streams open: the new one was reset. */
  | 'too-many-streams'
  /** More unacknowledged frames or bytes than `maxFramesInFlight` / `maxBytesInFlight`. */
  | 'too-many-frames'
  /** The peer does not read its acks: more than 2 MiB of them waited to be sent. */
  | 'ack-backlog'
  /** The remote reset or aborted the stream, or writing to it failed. */
  | 'reset'

/** What a receiver counted since it was created (`receiver.stats()`). */
export interface ReceiverStats {
  /** Envelope streams being served now. */
  activeStreams: number
  /** Envelope streams accepted (refused ones not included). */
  streamsAccepted: number
  /** Messages whose handler resolved (acked `ok`). */
  messages: number
  /** Messages acked `duplicate` without calling the handler. */
  duplicates: number
  /** Messages acked `rejected`, by code (`unauthorized`, `too-large`, `id-too-long`, `unknown-protocol`, a handler's code, ...). */
  rejected: Record<string, number>
  /** Messages acked `try-later`, by code (`rate-limited`, `stopping`, `authorize-error`, `try-later`, ...). */
  tryLater: Record<string, number>
  /** Streams cut off or refused, by reason. */
  streamErrors: Partial<Record<StreamErrorReason, number>>
  /** Ids in the dedupe window now (bounded by `dedupe.maxEntries`). */
  dedupeEntries: number
  /** Peers whose rate-limit bucket is tracked now. */
  rateLimitedPeers: number
}

/** The counters behind `stats()`. */
export class ReceiverCounters {
  streamsAccepted = 0
  messages = 0
  duplicates = 0
  // no prototype: a handler's error code could be "__proto__"
  readonly rejected: Record<string, number> = Object.create(null)
  readonly tryLater: Record<string, number> = Object.create(null)
  readonly streamErrors: Partial<Record<StreamErrorReason, number>> = {}

  answered(status: 'rejected' | 'try-later', code: string): void {
    const table = status === 'rejected' ? this.rejected : this.tryLater
    table[code] = (table[code] ?? 0) + 1
  }

  streamError(reason: StreamErrorReason): void {
    this.streamErrors[reason] = (this.streamErrors[reason] ?? 0) + 1
  }

  snapshot(
    live: Pick<ReceiverStats, 'activeStreams' | 'dedupeEntries' | 'rateLimitedPeers'>
  ): ReceiverStats {
    return {
      ...live,
      streamsAccepted: this.streamsAccepted,
      messages: this.messages,
      duplicates: this.duplicates,
      rejected: { ...this.rejected },
      tryLater: { ...this.tryLater },
      streamErrors: { ...this.streamErrors }
    }
  }
}

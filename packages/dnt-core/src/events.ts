import type { Entry } from './types.js'

/** What each event of an `Outbox` carries in `event.detail`. */
export interface OutboxEvents {
  /**
   * An entry waits for a later attempt (durable when its level persists);
   * `entry.nextAttemptAt` says when it is due.
   */
  queued: { entry: Entry }
  /**
   * An entry reached its peer; `attempts` (= `entry.attempts`) counts this
   * successful one too; `reply`: the receiver's answer, when it gave one (kept
   * until `takeReply()` unless the `send()` that made it received it).
   */
  delivered: { entry: Entry; attempts: number; reply?: Uint8Array }
  /** An attempt to a peer failed; its queued entries wait until `nextAttemptAt`. */
  'attempt-failed': {
    peer: string
    error: unknown
    /** `peer`: the peer could not be reached (every queued entry charged); `message`: one message failed. */
    scope: 'peer' | 'message'
    queued: number
    failures: number
    nextAttemptAt: number
  }
  /**
   * An entry left the queue for good: out of retries, refused by the receiving
   * application, or impossible to deliver as configured.
   */
  abandoned: {
    entry: Entry
    reason: 'exhausted' | 'rejected' | 'undeliverable'
    error?: unknown
    deadLetter: boolean
  }
  /** An entry's TTL passed before it was delivered; it left the queue. */
  expired: { entry: Entry; deadLetter: boolean }
  /** The transport reported the peer reachable. */
  'peer-reachable': { peer: string }
  /** `purge()` removed these entries (queued or dead-lettered). */
  purged: { entries: Entry[] }
  /** Nothing is queued any more. */
  drained: Record<string, never>
  /**
   * A store write failed (`recovered: false`; persisted sends are refused and
   * the write is retried until it lands), or a write landed again (`recovered: true`).
   */
  'store-error': { error: unknown; recovered: boolean }
}

/** The name of an event the `Outbox` emits. */
export type OutboxEventName = keyof OutboxEvents

/** `OutboxEvents` as the `CustomEvent`s an `Outbox` dispatches. */
export type OutboxEventMap = { [K in OutboxEventName]: CustomEvent<OutboxEvents[K]> }

import type { SendStatus } from './pending-entry.js'

/** Options of `Outbox.send()` (libp2p's `AbortOptions` plus a level). */
export interface SendOptions {
  /** Use this level instead of the one the policy maps the protocol to. */
  level?: string
  /**
   * Stops waiting. Before the message is durable (or delivered) nothing of it
   * is left and the call rejects with the signal's reason; after, the message
   * stays queued and only the waiting stops.
   */
  signal?: AbortSignal
}

/** The option names `send()` knows; any other is a `TypeError`. */
export const SEND_FIELDS = new Set(['level', 'signal'])

/** What `Outbox.send()` resolves with. */
export interface SendResult {
  /** The message's id: the caller's, or the one the outbox made. */
  id: string
  /**
   * `delivered`: the peer has it. `queued`: it waits for a later attempt (in
   * the store, durably, when its level persists). `abandoned`: its level
   * allows no retry and the first attempt failed, or the id is a dead letter.
   */
  status: SendStatus
  /** `delivered`: the bytes the receiver's handler answered with, when it gave an answer. */
  reply?: Uint8Array
  /** `queued`: when the next attempt is due (ms since the epoch). */
  nextAttemptAt?: number
}

/** A reply waiting to be taken: of a message delivered after its `send()` returned. */
export interface PendingReply {
  /** The message's id. */
  id: string
  /** The peer it was delivered to. */
  peer: string
  /** Its protocol. */
  protocol: string
  /** Its level. */
  level: string
  /** When the message was delivered (ms since the epoch). */
  deliveredAt: number
  /** The receiver's answer. */
  reply: Uint8Array
}

/** A value of `Message.meta`: JSON scalars only, so every store can keep it. */
export type MetaValue = string | number | boolean | null

/** Free-form fields carried with a message (the Go original's `did`, `dataType`, `user`). */
export type Meta = Record<string, MetaValue>

/** What a caller hands to `Outbox.send()`. */
export interface Message {
  /** The receiving peer's id (base58 or CID string). */
  peer: string
  /** Multiaddrs to dial the peer at; without them the transport dials by peer id. */
  addrs?: string[]
  /** Stream protocol id the payload is for. */
  protocol: string
  payload: Uint8Array
  meta?: Meta
  /** Caller-chosen idempotency key; otherwise a time-sortable unique id is made. */
  id?: string
}

/** Why an entry was moved to the dead-letter list. */
export interface DeadLetter {
  /**
   * Out of retries, out of time (TTL), refused by the receiving application, or
   * impossible to deliver as configured (see `UndeliverableError`).
   */
  reason: 'exhausted' | 'expired' | 'rejected' | 'undeliverable'
  /** When it was dead-lettered (ms since the epoch). */
  at: number
}

/** A message as the outbox and the stores keep it. */
export interface Entry extends Message {
  id: string
  /** Name of the policy level it was sent under. */
  level: string
  /** Failed delivery attempts so far, the first one included. */
  attempts: number
  /** When it was accepted (ms since the epoch). */
  createdAt: number
  /** Earliest time of the next attempt (ms since the epoch). */
  nextAttemptAt: number
  /** One line describing the last failure. */
  lastError?: string
  /** Set when the entry sits in the dead-letter list instead of the queue. */
  deadLetter?: DeadLetter
}

/** One atomic change to a store. */
export interface StoreBatch {
  put?: Entry[]
  delete?: string[]
}

/**
 * Persistence for entries of levels with `persist: true`.
 *
 * - `open()` returns everything that survived, in the order entries were first
 *   put (the outbox relies on it for FIFO per peer after a restart).
 * - `apply()` is atomic and durable once it resolves. Putting an existing id
 *   replaces the entry and keeps its position; deleting an unknown id is a no-op.
 * - `close()` releases files and locks; `open()` may be called again afterwards.
 */
export interface Store {
  /** Everything that survived, in first-put order; called once per start. */
  open(): Promise<Entry[] | AsyncIterable<Entry>>
  /** Puts and deletes as one atomic batch, durable once it resolves. */
  apply(batch: StoreBatch): Promise<void>
  /** Releases files and locks; pending `apply` calls settle first. */
  close(): Promise<void>
}

/** What the outbox hands `Transport.deliver` with each attempt. */
export interface DeliverOptions {
  /** Aborted when the attempt times out or the outbox stops. */
  signal: AbortSignal
}

/**
 * Moves one entry to its peer.
 *
 * `deliver` resolves when the peer has the message. What it throws decides
 * what the outbox does next:
 *
 * - `PeerUnreachableError`: no connection; retried after the peer's backoff,
 *   one attempt counted for every entry queued to the peer.
 * - `DeliveryFailedError`: the peer was reached, this message did not get
 *   through; retried after the peer's backoff, counted for this message only.
 * - `DeliveryRejectedError`: the receiving application refused it; never retried.
 * - `UndeliverableError`: cannot succeed as configured; never retried.
 * - anything else: treated as `PeerUnreachableError`.
 */
export interface Transport {
  /** Delivers `entry`; resolves once the peer has it, throws one of the errors above otherwise. */
  deliver(entry: Entry, options: DeliverOptions): Promise<void>
  /** Calls `listener` when a peer becomes reachable; returns an unsubscribe function. */
  onReachable?(listener: (peer: string) => void): () => void
}

import type { PrivateKeyInput } from './crypto.js'

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

/** A libp2p `PeerId`, or anything whose `toString()` gives a peer id. */
export interface PeerIdLike {
  /** The peer id as a string (base58btc or CID form). */
  toString(): string
}

/** A libp2p `Multiaddr`, or anything whose `toString()` gives a multiaddr. */
export interface MultiaddrLike {
  /** The multiaddr as a string, e.g. `/ip4/127.0.0.1/tcp/4001`. */
  toString(): string
}

/** What `Outbox.send()` takes: a `Message` whose peer and addresses may also be libp2p objects. */
export interface OutgoingMessage extends Omit<Message, 'peer' | 'addrs'> {
  peer: string | PeerIdLike
  addrs?: Array<string | MultiaddrLike>
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

/**
 * A message that was delivered after its `send()` had returned, kept only to
 * hold the receiver's reply until the application takes it (`takeReply`).
 */
export interface Delivered {
  /** When it was delivered (ms since the epoch). */
  at: number
  /** The bytes the receiver's handler answered with. */
  reply: Uint8Array
}

/** A message as the outbox and the stores keep it. */
export interface Entry extends Message {
  id: string
  /** Name of the policy level it was sent under. */
  level: string
  /**
   * Delivery attempts made so far. For a queued or dead-lettered entry every
   * one of them failed; in the `delivered` event it counts the successful one too.
   */
  attempts: number
  /** When it was accepted (ms since the epoch). */
  createdAt: number
  /** Earliest time of the next attempt (ms since the epoch). */
  nextAttemptAt: number
  /** One line describing the last failure. */
  lastError?: string
  /** Set when the entry sits in the dead-letter list instead of the queue. */
  deadLetter?: DeadLetter
  /** Set when the entry was delivered and only holds the receiver's reply until it is taken. */
  delivered?: Delivered
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
 * - `apply()` is atomic and durable once it resolves. Deletes apply before
 *   puts. Putting an existing id replaces the entry and keeps its position; an
 *   id both deleted and put in one batch is replaced and moves to the end (the
 *   outbox does this for a requeued dead letter and for a new message under an
 *   id that left); deleting an unknown id is a no-op.
 * - `close()` releases files and locks; `open()` may be called again afterwards.
 *
 * `AbstractStore` implements the checks and the call order every store needs;
 * a store built on it implements a few primitives.
 */
export interface Store {
  /** Everything that survived, in first-put order; called once per start. */
  open(): Promise<Entry[] | AsyncIterable<Entry>>
  /** Puts and deletes as one atomic batch, durable once it resolves. */
  apply(batch: StoreBatch): Promise<void>
  /** Releases files and locks; pending `apply` calls settle first. */
  close(): Promise<void>
  /**
   * Optional. Called by whoever runs the store inside a libp2p node (the
   * `dnt()` service, a `dntReceiver()` dedupe window) before `open()`, with
   * what the node lends it. A store takes from it only what it was not given
   * itself: its key when it was made without `privateKey`, `key` or
   * `encryption: false` (its key then follows the node's identity), the
   * node's datastore when it keeps its entries there.
   */
  useNode?(node: StoreNode): void
  /**
   * True for a store made read-only (`readOnly: true` in the stores of
   * dntkit): `open()` writes, truncates, renames and locks nothing that
   * would stop a writer, and `apply()` rejects with `StoreReadOnlyError`.
   * Absent or false: a store that writes.
   */
  readonly readOnly?: boolean
}

/** What a libp2p node lends the stores of its services (see `Store.useNode`). */
export interface StoreNode {
  /**
   * The node's private key (libp2p's `components.privateKey`, a libp2p
   * `PrivateKey`): the default source of a store's key.
   */
  privateKey?: PrivateKeyInput
  /** The node's datastore (libp2p's `components.datastore`, an `interface-datastore` `Datastore`). */
  datastore?: unknown
}

/** What the outbox hands `Transport.deliver` with each attempt. */
export interface DeliverOptions {
  /** Aborted when the attempt times out or the outbox stops. */
  signal: AbortSignal
}

/** What a delivery may resolve with: the receiver's reply, when its protocol has one. */
export interface DeliveryReceipt {
  reply?: Uint8Array
}

/**
 * Moves one entry to its peer.
 *
 * `deliver` resolves when the peer has the message, with the receiver's reply
 * when there is one (`{ reply }`). What it throws decides
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
  /**
   * Delivers `entry`; resolves once the peer has it (with the receiver's
   * reply, when its protocol has one), throws one of the errors above otherwise.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a transport that has no replies returns Promise<void>
  deliver(entry: Entry, options: DeliverOptions): Promise<void | DeliveryReceipt>
  /** Calls `listener` when a peer becomes reachable; returns an unsubscribe function. */
  onReachable?(listener: (peer: string) => void): () => void
}

import type { DeadLetter, Delivered, Entry, Message, Meta } from './types.js'

/** What a `send()` call hears about its entry: `delivered`, `queued` or `abandoned`. */
export type SendStatus = 'delivered' | 'queued' | 'abandoned'

/** How a `send()` call learns what became of its entry (and the receiver's reply, if any). */
export interface SendWaiter {
  resolve(status: SendStatus, reply?: Uint8Array): void
  reject(error: unknown): void
}

/** Fields most entries never use, kept out of line to keep the common entry small. */
interface Rare {
  addrs?: string[]
  meta?: Meta
  deadLetter?: DeadLetter
  delivered?: Delivered
  /** Monotonic time at which its TTL runs out (only for levels with a finite TTL). */
  expiresAt?: number
}

const STORED = 1
const IN_FLIGHT = 2
const DONE = 4
const ACCEPTED = 8
const HELD = 16

/**
 * An entry as the outbox holds it: the public fields plus bookkeeping, in one
 * object of fixed shape. Booleans share one small integer and rarely used
 * fields live in a side object, so a queued entry costs little beyond its
 * payload (see bench: heap overhead per pending entry).
 */
export class PendingEntry implements Entry {
  id: string
  peer: string
  protocol: string
  payload: Uint8Array
  level: string
  attempts: number
  createdAt: number
  nextAttemptAt: number
  lastError: string | undefined
  /** The caller's `send()` is still waiting for an outcome. */
  waiter: SendWaiter | undefined
  private flags = 0
  private rare: Rare | undefined

  constructor(message: Message, id: string, level: string, now: number) {
    this.id = id
    this.peer = message.peer
    this.protocol = message.protocol
    this.payload = message.payload
    this.level = level
    this.attempts = 0
    this.createdAt = now
    this.nextAttemptAt = now
    this.lastError = undefined
    this.waiter = undefined
    this.rare = undefined
    if (message.addrs !== undefined) this.addrs = message.addrs
    if (message.meta !== undefined) this.meta = message.meta
  }

  static fromEntry(entry: Entry): PendingEntry {
    const pending = new PendingEntry(entry, entry.id, entry.level, entry.createdAt)
    pending.attempts = entry.attempts
    pending.nextAttemptAt = entry.nextAttemptAt
    pending.lastError = entry.lastError
    pending.deadLetter = entry.deadLetter
    pending.delivered = entry.delivered
    pending.stored = true
    return pending
  }

  private setRare<K extends keyof Rare>(key: K, value: Rare[K]): void {
    if (value === undefined && this.rare === undefined) return
    // assigned, never deleted, so the side object keeps a fast shape
    this.rare ??= {
      addrs: undefined,
      meta: undefined,
      deadLetter: undefined,
      delivered: undefined,
      expiresAt: undefined
    }
    this.rare[key] = value
  }

  get addrs(): string[] | undefined {
    return this.rare?.addrs
  }

  set addrs(value: string[] | undefined) {
    this.setRare('addrs', value)
  }

  get meta(): Meta | undefined {
    return this.rare?.meta
  }

  set meta(value: Meta | undefined) {
    this.setRare('meta', value)
  }

  get deadLetter(): DeadLetter | undefined {
    return this.rare?.deadLetter
  }

  set deadLetter(value: DeadLetter | undefined) {
    this.setRare('deadLetter', value)
  }

  /** Delivered, holding the receiver's reply until the application takes it. */
  get delivered(): Delivered | undefined {
    return this.rare?.delivered
  }

  set delivered(value: Delivered | undefined) {
    this.setRare('delivered', value)
  }

  /** Monotonic expiry time, `Infinity` when its level has no TTL. */
  get expiresAt(): number {
    return this.rare?.expiresAt ?? Infinity
  }

  set expiresAt(value: number) {
    this.setRare('expiresAt', value === Infinity ? undefined : value)
  }

  private flag(bit: number, on: boolean): void {
    this.flags = on ? this.flags | bit : this.flags & ~bit
  }

  /** A put of this entry may have reached the store (so removing it needs a delete). */
  get stored(): boolean {
    return (this.flags & STORED) !== 0
  }

  set stored(value: boolean) {
    this.flag(STORED, value)
  }

  /** A delivery attempt is running. */
  get inFlight(): boolean {
    return (this.flags & IN_FLIGHT) !== 0
  }

  set inFlight(value: boolean) {
    this.flag(IN_FLIGHT, value)
  }

  /** Delivered, abandoned, expired or purged: leaves the queue when it reaches the head. */
  get done(): boolean {
    return (this.flags & DONE) !== 0
  }

  set done(value: boolean) {
    this.flag(DONE, value)
  }

  /** The outbox answers for it now: queued for retries (and durable if its level persists). */
  get accepted(): boolean {
    return (this.flags & ACCEPTED) !== 0
  }

  set accepted(value: boolean) {
    this.flag(ACCEPTED, value)
  }

  /**
   * Its first write is not durable yet: it is not attempted (and the entries
   * behind it wait) until it is, so nobody hears "delivered" for a message
   * whose sender may still be told the store failed.
   */
  get held(): boolean {
    return (this.flags & HELD) !== 0
  }

  set held(value: boolean) {
    this.flag(HELD, value)
  }

  /** Same message: same peer, protocol and payload bytes. */
  sameMessage(peer: string, protocol: string, payload: Uint8Array): boolean {
    if (peer !== this.peer || protocol !== this.protocol) return false
    const mine = this.payload
    if (mine.byteLength !== payload.byteLength) return false
    for (let index = 0; index < mine.byteLength; index++) {
      if (mine[index] !== payload[index]) return false
    }
    return true
  }

  /** Adds a waiter; a resent id waits for the same outcome as the first `send()`. */
  addWaiter(waiter: SendWaiter): void {
    const first = this.waiter
    if (first === undefined) {
      this.waiter = waiter
      return
    }
    this.waiter = {
      resolve(status, reply) {
        first.resolve(status, reply)
        waiter.resolve(status, reply)
      },
      reject(error) {
        first.reject(error)
        waiter.reject(error)
      }
    }
  }

  /** A plain `Entry` with the current values (payload shared, not copied). */
  toEntry(): Entry {
    const entry: Entry = {
      id: this.id,
      peer: this.peer,
      protocol: this.protocol,
      payload: this.payload,
      level: this.level,
      attempts: this.attempts,
      createdAt: this.createdAt,
      nextAttemptAt: this.nextAttemptAt
    }
    const { addrs, meta, deadLetter, delivered } = this
    if (addrs !== undefined) entry.addrs = addrs
    if (meta !== undefined) entry.meta = meta
    if (this.lastError !== undefined) entry.lastError = this.lastError
    if (deadLetter !== undefined) entry.deadLetter = deadLetter
    if (delivered !== undefined) entry.delivered = delivered
    return entry
  }

  settle(status: SendStatus, reply?: Uint8Array): void {
    const waiter = this.waiter
    this.waiter = undefined
    waiter?.resolve(status, reply)
  }

  fail(error: unknown): void {
    const waiter = this.waiter
    this.waiter = undefined
    waiter?.reject(error)
  }
}

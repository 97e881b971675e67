import type { DeadLetter, Entry, Message, Meta } from './types.js'

/** How a `send()` call learns what became of its entry. */
export interface SendWaiter {
  resolve(status: 'delivered' | 'queued' | 'abandoned'): void
  reject(error: unknown): void
}

/**
 * An entry as the outbox holds it: the public fields plus bookkeeping. One
 * object per queued message, with a fixed shape, to keep memory per entry low.
 */
export class PendingEntry implements Entry {
  id: string
  peer: string
  addrs: string[] | undefined
  protocol: string
  payload: Uint8Array
  meta: Meta | undefined
  level: string
  attempts: number
  createdAt: number
  nextAttemptAt: number
  lastError: string | undefined
  deadLetter: DeadLetter | undefined
  /** A put of this entry reached the store (so removing it needs a delete). */
  stored = false
  /** A delivery attempt is running. */
  inFlight = false
  /** Delivered, rejected, expired or purged: leaves the queue when it reaches the head. */
  done = false
  /** The outbox answers for it now: queued for retries (and durable if its level persists). */
  accepted = false
  /** The caller's `send()` is still waiting for an outcome. */
  waiter: SendWaiter | undefined = undefined

  constructor(message: Message, id: string, level: string, now: number) {
    this.id = id
    this.peer = message.peer
    this.addrs = message.addrs
    this.protocol = message.protocol
    this.payload = message.payload
    this.meta = message.meta
    this.level = level
    this.attempts = 0
    this.createdAt = now
    this.nextAttemptAt = now
    this.lastError = undefined
    this.deadLetter = undefined
  }

  static fromEntry(entry: Entry): PendingEntry {
    const pending = new PendingEntry(entry, entry.id, entry.level, entry.createdAt)
    pending.attempts = entry.attempts
    pending.nextAttemptAt = entry.nextAttemptAt
    pending.lastError = entry.lastError
    pending.deadLetter = entry.deadLetter
    pending.stored = true
    return pending
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
    if (this.addrs !== undefined) entry.addrs = this.addrs
    if (this.meta !== undefined) entry.meta = this.meta
    if (this.lastError !== undefined) entry.lastError = this.lastError
    if (this.deadLetter !== undefined) entry.deadLetter = this.deadLetter
    return entry
  }

  settle(status: 'delivered' | 'queued' | 'abandoned'): void {
    const waiter = this.waiter
    this.waiter = undefined
    waiter?.resolve(status)
  }

  fail(error: unknown): void {
    const waiter = this.waiter
    this.waiter = undefined
    waiter?.reject(error)
  }
}

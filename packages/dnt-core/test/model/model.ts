import type { Entry } from '../../src/index.js'
import { checkRestored } from './restore-check.js'
import {
  type Call,
  CHARGED,
  type Incarnation,
  LEVELS,
  type LevelName,
  UNREACHABLE,
  World
} from './world.js'

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, index) => byte === b[index])
}

/** Where one message stands, as the model understands it from the API's answers. */
export type Status =
  | 'sending' // send() not settled: not yet accepted, nothing promised
  | 'queued' // accepted: durable when its level persists
  | 'dead' // a dead letter
  | 'delivered'
  | 'gone' // abandoned without dead letter, purged, refused on its first attempt, lost with memory
  | 'maybe' // send() failed on the store or on stop: it may still turn up once, never required

export interface ModelMessage {
  id: string
  peer: string
  level: LevelName
  payload: string
  status: Status
  /** Incarnation the current send of this id was made in, and the one it was delivered in. */
  sentIn: number
  deliveredIn: number | undefined
  /** Attempts the world saw for the current send. */
  calls: number
  requeued: boolean
  /** Requeued, and the requeue's write is not durable yet (the entry is held). */
  requeuing: boolean
  /** Some state of it reached the store for sure (its send answered queued, or it was restored). */
  durable: boolean
  /** Index of the first world call that can belong to its current send. */
  firstCall: number
  /** The world delivered its current send (the outbox may not know yet). */
  arrived?: boolean
  /** Its send() has settled: a reply that comes later is kept for `takeReply()`. */
  sendSettled?: boolean
  /** Delivered after its send() settled: the outbox owes the application its reply. */
  replyPending?: boolean
  /** Why it is `gone`: a purge may race an attempt in flight; an abandonment may not. */
  goneBy?: 'purge' | 'abandoned' | 'other'
  /** An older record of it came back from the store after an unclean stop (a purge or delivery not yet written). */
  resurrected?: boolean
  /** `World.tick` when its current send (or requeue, or restore) began: what it may be charged for comes after. */
  since: number
  /** Attempts the store held for it at the last restart (spent before `since`). */
  restoredAttempts: number
  /** `World.tick` when its current send (or requeue) was made: a `queued` answer needs a put of it landed after. */
  sentAt: number
  /** Counts the sends that made a new message under this id: an older one's answer is not about this one. */
  generation: number
  /** What its current send() answered (`status`, or `error:<name>`), once it settles: a resend joining it must answer the same. */
  firstAnswer?: Promise<string>
}

/**
 * The plain model: every message's status, each peer's FIFO order of live
 * messages, and the rules it checks the real outbox against. Violations are
 * collected (event listeners must not throw) and raised after each step.
 */
export class Model {
  readonly messages = new Map<string, ModelMessage>()
  readonly order = new Map<string, string[]>()
  readonly violations: string[] = []
  /** Delivered ids the store may still hold (a crash or a given-up stop): one more delivery is allowed. */
  readonly mayRedeliver = new Set<string>()
  incarnation = 0
  sequence = 0
  /** Messages a later one to their peer arrived before, while their own send() was unanswered. */
  readonly overtaken: Array<{ ahead: ModelMessage; behind: string; peer: string }> = []

  violation(text: string): void {
    this.violations.push(text)
  }

  raise(): void {
    // a send still unanswered when a later message to its peer arrived: it must have been refused at once
    for (const pending of this.overtaken.splice(0)) {
      const { ahead, behind, peer } = pending
      if (ahead.status === 'sending') this.overtaken.push(pending)
      else if (ahead.status !== 'maybe') {
        this.violation(
          `FIFO: ${behind} delivered to ${peer} before ${ahead.id} (then ${ahead.status})`
        )
      }
    }
    if (this.violations.length > 0)
      throw new Error(`model violated:\n${this.violations.join('\n')}`)
  }

  isLive(message: ModelMessage): boolean {
    return message.status === 'sending' || message.status === 'queued'
  }

  enqueue(message: ModelMessage): void {
    this.dequeue(message.id, message.peer)
    const list = this.order.get(message.peer) ?? []
    list.push(message.id)
    this.order.set(message.peer, list)
  }

  dequeue(id: string, peer: string): void {
    const list = this.order.get(peer)
    const index = list?.indexOf(id) ?? -1
    if (list !== undefined && index >= 0) list.splice(index, 1)
  }

  settle(message: ModelMessage, status: Status, goneBy: ModelMessage['goneBy'] = 'other'): void {
    message.status = status
    message.goneBy = status === 'gone' ? goneBy : undefined
    if (status !== 'delivered') message.replyPending = false
    if (!this.isLive(message)) this.dequeue(message.id, message.peer)
  }

  /** The world delivered `call`: nothing ahead of it in its peer's queue may still be waiting. */
  arrived(call: Call, fifo: boolean): void {
    const message = this.messages.get(call.id)
    // an attempt of an earlier message under this id (purged while in flight) is not this one's
    if (message === undefined || call.index < message.firstCall) return
    if (message.status === 'dead') this.violation(`${call.id} delivered while a dead letter`)
    if (message.status === 'gone' && message.goneBy === 'abandoned') {
      this.violation(`${call.id} delivered after the outbox abandoned it`)
    }
    if (message.status === 'delivered') {
      if (!this.mayRedeliver.delete(call.id)) this.violation(`${call.id} delivered twice`)
      return
    }
    message.arrived = true
    if (!fifo) return
    const list = this.order.get(call.peer) ?? []
    for (const ahead of list.slice(0, Math.max(0, list.indexOf(call.id)))) {
      const before = this.messages.get(ahead)
      // sent in the same instant, it may have been refused before it was queued (store failing)
      if (before?.status === 'sending')
        this.overtaken.push({ ahead: before, behind: call.id, peer: call.peer })
      else if (before !== undefined && this.isLive(before)) {
        this.violation(
          `FIFO: ${call.id} delivered to ${call.peer} before ${ahead} (${before.status})`
        )
      }
    }
  }

  /**
   * A retry budget is kept: attempts never exceed first try + retries, counted
   * from the attempts the store durably held at the last restart.
   */
  counted(call: Call): void {
    const message = this.messages.get(call.id)
    if (message === undefined || call.index < message.firstCall) return
    if (message.status === 'delivered') {
      this.violation(`${call.id} attempted again after it was reported delivered`)
      return
    }
    message.calls++
    const { maxRetries } = LEVELS[message.level]
    if (message.calls > maxRetries + 1) {
      this.violation(`${call.id} (${message.level}) attempted ${message.calls} times`)
    }
  }

  /**
   * Abandoned as exhausted only after its whole budget: the attempts it can
   * have been charged (the store's count at the last restart, its own failed
   * attempts since, and every unreachable attempt to its peer since, each of
   * which may charge everything queued) reach first try + retries. A failure
   * of one message charges no other.
   */
  checkBudget(world: World, message: ModelMessage, incarnation: number): void {
    const budget = LEVELS[message.level].maxRetries + 1
    let chargeable = message.restoredAttempts
    for (const call of world.calls) {
      if (call.incarnation !== incarnation || (call.settled ?? 0) <= message.since) continue
      const own = call.id === message.id
      if (
        own
          ? CHARGED.has(call.outcome)
          : call.peer === message.peer && UNREACHABLE.has(call.outcome)
      )
        chargeable++
    }
    if (chargeable < budget) {
      this.violation(
        `${message.id} (${message.level}) abandoned as exhausted after at most ${chargeable} of its ${budget} attempts`
      )
    }
  }

  /** Memory: queued entries are exactly the live messages, in the model's order per peer. */
  checkMemory(incarnation: Incarnation): void {
    const { outbox } = incarnation
    const byPeer = new Map<string, string[]>()
    for (const entry of outbox.entries()) {
      const list = byPeer.get(entry.peer) ?? []
      list.push(entry.id)
      byPeer.set(entry.peer, list)
      const message = this.messages.get(entry.id)
      if (message === undefined || !this.isLive(message)) {
        this.violation(
          `outbox holds ${entry.id}, which the model has ${message?.status ?? 'never seen'}`
        )
      }
    }
    for (const message of this.messages.values()) {
      if (this.isLive(message) && !byPeer.get(message.peer)?.includes(message.id)) {
        this.violation(`${message.id} is ${message.status} but the outbox does not hold it`)
      }
    }
    for (const [peer, ids] of byPeer) {
      const expected = (this.order.get(peer) ?? []).filter((id) => ids.includes(id))
      if (expected.join() !== ids.join()) {
        this.violation(`order of ${peer}: outbox ${ids.join()} model ${expected.join()}`)
      }
    }
    const replies = outbox.replies()
    for (const pending of replies) {
      const message = this.messages.get(pending.id)
      if (message?.replyPending !== true)
        this.violation(`outbox holds a reply for ${pending.id}, not owed`)
      if (!sameBytes(pending.reply, World.replyTo(pending.id))) {
        this.violation(`${pending.id}: replies() gives another request's reply`)
      }
    }
    for (const message of this.messages.values()) {
      if (message.replyPending === true && !replies.some((pending) => pending.id === message.id)) {
        this.violation(`the reply of ${message.id} is owed but not in replies()`)
      }
    }
    const dead = new Set(outbox.deadLetters().map((entry) => entry.id))
    for (const message of this.messages.values()) {
      if ((message.status === 'dead') !== dead.has(message.id)) {
        this.violation(
          `${message.id}: model ${message.status}, dead letter in outbox: ${dead.has(message.id)}`
        )
      }
    }
  }

  /**
   * The store holds exactly what must be durable: every queued message of a
   * persisted level and every dead letter; nothing delivered, gone or refused.
   */
  checkDisk(stored: Entry[]): void {
    const onDisk = new Map(stored.map((entry) => [entry.id, entry]))
    for (const message of this.messages.values()) {
      const entry = onDisk.get(message.id)
      const persisted = LEVELS[message.level].persist
      const shouldHold =
        persisted &&
        (message.status === 'queued' ||
          message.status === 'dead' ||
          (message.status === 'delivered' && message.replyPending === true))
      if (shouldHold && entry === undefined)
        this.violation(`${message.id} (${message.status}) is not in the store`)
      if (!shouldHold && entry !== undefined) {
        this.violation(`the store holds ${message.id}, which is ${message.status}`)
      }
      if (
        entry !== undefined &&
        (entry.delivered !== undefined) !== (message.status === 'delivered')
      ) {
        this.violation(
          `${message.id}: stored ${entry.delivered ? 'as a reply' : 'queued'}, model ${message.status}`
        )
      }
      if (
        entry?.delivered !== undefined &&
        !sameBytes(entry.delivered.reply, World.replyTo(message.id))
      ) {
        this.violation(`${message.id}: the store holds another request's reply`)
      }
      if (entry !== undefined && (entry.deadLetter !== undefined) !== (message.status === 'dead')) {
        this.violation(
          `${message.id}: stored dead letter ${entry.deadLetter !== undefined}, model ${message.status}`
        )
      }
    }
  }

  restored(world: World, incarnation: Incarnation, stored: Entry[], unclean: boolean): void {
    checkRestored(this, incarnation, stored, unclean)
    void world
  }
}

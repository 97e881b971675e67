import { TypedEventEmitter } from 'main-event'
import { raceAbort } from './attempt.js'
import { deliverOnce } from './deliver-once.js'
import { Deliveries } from './deliveries.js'
import { EntryFates } from './entry-fates.js'
import { EntryIndex } from './entry-index.js'
import { OutboxStoppedError } from './errors.js'
import type { OutboxEventMap, OutboxEvents } from './events.js'
import { Ledger } from './ledger.js'
import type { OutboxContext, Totals } from './outbox-context.js'
import {
  type OutboxInit,
  type ResolvedOutboxInit,
  rejectUnknownOptions,
  resolveOutboxInit
} from './outbox-options.js'
import { type OutboxStats, snapshotStats } from './outbox-stats.js'
import type { PeerQueue } from './peer-queue.js'
import { PeerScheduler } from './peer-scheduler.js'
import type { SendStatus } from './pending-entry.js'
import { levelOf, NONE } from './policy.js'
import { type PurgeSelector, purge, requeue } from './queue-edits.js'
import { RetryRules } from './retry-rules.js'
import {
  admit,
  earlierSend,
  normalizeMessage,
  outcomeOf,
  type SendOutcome
} from './send-admission.js'
import { adoptEntries, restoreEntry, stopGracefully } from './session.js'
import { StoreHealth } from './store-health.js'
import type { Entry, OutgoingMessage } from './types.js'

export type { PurgeSelector } from './queue-edits.js'

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

const SEND_FIELDS = new Set(['level', 'signal'])

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
  id: string
  peer: string
  protocol: string
  level: string
  /** When the message was delivered (ms since the epoch). */
  deliveredAt: number
  reply: Uint8Array
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped'

/**
 * Keeps the process alive while `promise` is pending: the outbox's own timers
 * do not (a queued retry must not hold a process open), but a script awaiting
 * `whenDrained()` or `flush()` must not exit before they settle. A plain
 * platform timer, not the injected clock: it only keeps the event loop busy.
 */
function keepAlive<T>(promise: Promise<T>): Promise<T> {
  const timer = globalThis.setInterval(() => {}, 2 ** 30)
  const release = (): void => globalThis.clearInterval(timer)
  promise.then(release, release)
  return promise
}

/**
 * The retry scheduler: one FIFO queue per peer, one attempt per peer at a
 * time after a failure, backoff per peer on monotonic time, an early attempt
 * when the transport says a peer is reachable (at most one per backoff
 * window), and a durable ledger that writes persisted levels through group
 * commit, retrying every write until it lands.
 *
 * Events (`addEventListener(name, (event) => event.detail)`): see `OutboxEvents`.
 */
export class Outbox extends TypedEventEmitter<OutboxEventMap> {
  private readonly options: ResolvedOutboxInit
  private readonly context: OutboxContext
  private readonly index: EntryIndex
  private readonly scheduler: PeerScheduler
  private readonly fates: EntryFates
  private readonly deliveries: Deliveries
  private readonly health: StoreHealth
  private readonly totals: Totals = { delivered: 0, failedAttempts: 0, abandoned: 0, expired: 0 }
  private ledger: Ledger
  private state: State = 'new'
  private paused: boolean
  private unsubscribeReachable: (() => void) | undefined
  private drainWaiters: Array<{ resolve(): void; reject(error: unknown): void }> = []
  private drainedSignalled = true

  constructor(init: OutboxInit) {
    super()
    const options = resolveOutboxInit(init)
    this.options = options
    this.paused = options.paused
    const log = options.logger('dntkit:outbox')
    this.index = new EntryIndex(options.limits, options.limits.rememberDelivered)
    this.scheduler = new PeerScheduler(
      {
        running: () => this.state === 'running',
        delivering: () => this.state === 'running' && !this.paused,
        expireDue: (queue, now) => this.fates.expireDue(queue, now),
        fill: (queue) => this.deliveries.fill(queue),
        emptied: (queue) => this.emptied(queue)
      },
      options.clock,
      options.concurrency
    )
    const emit = this.emitEvent.bind(this) as OutboxContext['emit']
    this.health = new StoreHealth(options.clock, log, emit, () => this.ledger.retry())
    this.ledger = this.createLedger()
    const outbox = this
    this.context = {
      options,
      log,
      index: this.index,
      scheduler: this.scheduler,
      rules: new RetryRules(options.policy, options.random, log),
      totals: this.totals,
      emit,
      get ledger() {
        return outbox.ledger
      },
      reschedule: (queue) => this.reschedule(queue)
    }
    this.fates = new EntryFates(this.context)
    this.deliveries = new Deliveries(this.context, this.fates)
  }

  /** Entries waiting for delivery (in flight included). */
  get size(): number {
    return this.index.byId.size
  }

  get running(): boolean {
    return this.state === 'running'
  }

  /** Entries queued for `peer` (in flight included). */
  queuedFor(peer: string): number {
    return this.index.peers.get(peer)?.size ?? 0
  }

  /** Stops starting deliveries (those in flight finish); `send()` still queues. */
  pause(): void {
    this.paused = true
  }

  /** Starts delivering again, from where each peer's backoff stands. */
  resume(): void {
    if (!this.paused) return
    this.paused = false
    for (const queue of Array.from(this.index.peers.values())) this.reschedule(queue)
  }

  /** Opens the store, restores what it holds and starts delivering. Writes nothing. */
  async start(): Promise<void> {
    if (this.state !== 'new' && this.state !== 'stopped') {
      throw new OutboxStoppedError(`cannot start an outbox that is ${this.state}`)
    }
    this.state = 'starting'
    this.ledger = this.createLedger()
    try {
      for await (const entry of await this.options.store.open()) restoreEntry(this.context, entry)
    } catch (error) {
      this.state = 'stopped'
      this.clear()
      await this.options.store.close().catch(() => {})
      throw error
    }
    this.unsubscribeReachable = this.options.transport.onReachable?.((peer) =>
      this.peerReachable(peer)
    )
    this.state = 'running'
    this.drainedSignalled = this.index.byId.size === 0
    this.context.log(
      'started with %d queued and %d dead-lettered entries',
      this.index.byId.size,
      this.index.dead.size
    )
    for (const queue of Array.from(this.index.peers.values())) this.reschedule(queue)
  }

  /**
   * Bounded: lets in-flight deliveries settle for up to `stopTimeout`, then
   * aborts them; writes what is pending (up to `stopTimeout` again, retrying a
   * failing store); closes the store. Persisted entries stay in the store;
   * memory-only ones are gone. Every waiting `send`, `flush` and
   * `whenDrained` settles.
   */
  async stop(): Promise<void> {
    if (this.state !== 'running') return
    this.state = 'stopping'
    this.unsubscribeReachable?.()
    this.unsubscribeReachable = undefined
    this.scheduler.clear()
    this.health.clear()
    await stopGracefully(this.context, this.fates, this.deliveries)
    const stopped = new OutboxStoppedError('outbox stopped')
    for (const entry of this.index.byId.values()) entry.fail(stopped)
    for (const entry of this.index.dead.values()) entry.fail(stopped)
    for (const queue of this.index.peers.values()) queue.resolveRound()
    for (const waiter of this.drainWaiters.splice(0)) waiter.reject(stopped)
    this.clear()
    this.state = 'stopped'
    await this.options.store.close()
    this.context.log('stopped')
  }

  /**
   * Delivers `message` now, or queues it behind the peer's queued entries or
   * backoff. Resolves `queued` only when a persisted entry is durable. Level
   * `none`: one attempt, whose error is thrown to the caller. An id sent again
   * is answered as the first send was (see `DuplicateIdError`).
   */
  async send(message: OutgoingMessage, options: SendOptions = {}): Promise<SendResult> {
    this.assertRunning()
    rejectUnknownOptions(options, SEND_FIELDS, 'send options')
    const normalized = normalizeMessage(message)
    const { signal } = options
    signal?.throwIfAborted()
    const levelName = options.level ?? levelOf(this.options.policy, normalized.protocol)
    if (levelName === NONE) return deliverOnce(this.options, normalized, signal)
    if (this.options.policy.levels[levelName] === undefined) {
      throw new TypeError(`unknown level "${levelName}"`)
    }
    const earlier = earlierSend(this.context, normalized)
    if (earlier !== undefined) {
      const id = normalized.id as string
      return this.result(
        id,
        earlier instanceof Promise ? await this.waitFor(earlier, signal) : earlier
      )
    }
    const { entry, queue } = admit(this.context, normalized, levelName, this.health.healthy)
    const outcome = outcomeOf(entry)
    this.reschedule(queue)
    if (signal === undefined) return this.result(entry.id, await outcome)
    const onAbort = (): void => {
      this.deliveries.cancel(queue, entry, signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      return this.result(entry.id, await this.waitFor(outcome, signal))
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  /**
   * Replies waiting to be taken: the answers of messages delivered after
   * their `send()` had returned (while this process ran or before a restart;
   * persisted with their level). The reply of a `send()` that was delivered
   * at once is in its result instead.
   */
  replies(): PendingReply[] {
    return Array.from(this.index.replies.values(), (entry) => {
      const { at, reply } = entry.delivered as { at: number; reply: Uint8Array }
      return {
        id: entry.id,
        peer: entry.peer,
        protocol: entry.protocol,
        level: entry.level,
        deliveredAt: at,
        reply
      }
    })
  }

  /**
   * Takes the reply of message `id` (see `replies()`): resolves with it once
   * it is gone from the store too, or with `undefined` when there is none.
   */
  async takeReply(id: string): Promise<Uint8Array | undefined> {
    this.assertRunning()
    const entry = this.index.replies.get(id)
    if (entry === undefined) return undefined
    this.index.replies.delete(id)
    await this.ledger.remove(entry)
    return entry.delivered?.reply
  }

  /** Attempts now, ignoring backoff; resolves when that round ended (queue empty, a failure, or stop). */
  async flush(peer?: string): Promise<void> {
    if (this.state !== 'running' || this.paused) return
    const queues =
      peer === undefined ? Array.from(this.index.peers.values()) : [this.index.peers.get(peer)]
    const rounds: Promise<void>[] = []
    for (const queue of queues) {
      if (queue === undefined || queue.size === 0) continue
      rounds.push(new Promise<void>((resolve) => queue.roundWaiters.push(resolve)))
      queue.retryAt = 0
      this.reschedule(queue)
    }
    await keepAlive(Promise.all(rounds))
  }

  /**
   * What the transport's `onReachable` triggers (when the policy says
   * `flushOnReachable`): a peer backing off is attempted at once, at most once
   * per backoff window. Its failure count is kept: only a delivery resets it.
   */
  peerReachable(peer: string): void {
    this.emitEvent('peer-reachable', () => ({ peer }))
    if (!this.options.policy.flushOnReachable || this.state !== 'running') return
    const queue = this.index.peers.get(peer)
    if (queue === undefined || queue.size === 0) return
    if (queue.retryAt <= this.scheduler.now()) {
      // not backing off: if an attempt is running and fails, the peer is tried again at once
      if (queue.inFlight > 0 && !queue.earlyUsed) queue.reachableDuringAttempt = true
      return
    }
    if (queue.earlyUsed) {
      this.context.log.trace(
        'peer %s reachable again: its early attempt of this window was made',
        peer
      )
      return
    }
    queue.earlyUsed = true
    queue.earlyPending = true
    queue.retryAt = 0
    this.reschedule(queue)
  }

  /** Resolves when nothing is queued (dead letters aside); rejects on `stop()` or when `signal` aborts. */
  whenDrained(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.state !== 'running' && this.state !== 'starting') {
      return Promise.reject(new OutboxStoppedError(`outbox is ${this.state}, not running`))
    }
    if (this.index.byId.size === 0) return Promise.resolve()
    const drained = new Promise<void>((resolve, reject) =>
      this.drainWaiters.push({ resolve, reject })
    )
    return keepAlive(this.waitFor(drained, options.signal))
  }

  /** Copies of the queued entries, FIFO per peer. */
  entries(filter: { peer?: string } = {}): Entry[] {
    const result: Entry[] = []
    for (const queue of this.index.peers.values()) {
      if (filter.peer !== undefined && queue.peer !== filter.peer) continue
      for (const entry of queue.entries()) result.push(entry.toEntry())
    }
    return result
  }

  /** Copies of the dead-lettered entries. */
  deadLetters(): Entry[] {
    return Array.from(this.index.dead.values(), (entry) => entry.toEntry())
  }

  /** Moves dead letters back into their peers' queues (all or nothing); returns how many. */
  requeue(ids: string[]): Promise<number> {
    this.assertRunning()
    return requeue(this.context, this.fates, ids, this.health.healthy)
  }

  /**
   * Takes over entries the application already wrote to the outbox's store
   * in its own atomic batch, next to its own data (the transactional-outbox
   * pattern; `createEntry()` makes them, a store such as the level store
   * turns them into the batch's operations). They are delivered like queued
   * entries and not written again. Returns how many were taken over (ids the
   * outbox already holds with the same message are skipped).
   */
  adopt(entries: Entry[]): number {
    this.assertRunning()
    const adopted = adoptEntries(this.context, entries)
    const queues = new Set(adopted.map((entry) => this.index.peers.get(entry.peer)))
    for (const queue of queues) if (queue !== undefined) this.reschedule(queue)
    return adopted.length
  }

  /** Removes queued and dead-lettered entries from memory and store; returns how many. */
  async purge(selector: PurgeSelector): Promise<number> {
    this.assertRunning()
    const removed = await purge(this.context, selector)
    this.checkDrained()
    return removed
  }

  /** Counts, bytes, health, pending writes, replies and latency percentiles; see `OutboxStats`. */
  stats(): OutboxStats {
    return snapshotStats(this.context, {
      inFlight: this.deliveries.inFlight,
      storeHealthy: this.health.healthy
    })
  }

  private createLedger(): Ledger {
    return new Ledger(this.options.store, {
      onWriteFailed: (error) => this.health.failed(error),
      onWriteSucceeded: () => this.health.recovered()
    })
  }

  private reschedule(queue: PeerQueue): void {
    if (this.index.byId.size > 0) this.drainedSignalled = false
    this.scheduler.schedule(queue)
    if (this.state === 'running' && queue.size > 0) this.fates.acceptWaiting(queue)
    this.scheduler.pump()
  }

  private emptied(queue: PeerQueue): void {
    this.index.forget(queue)
    queue.resolveRound()
    this.checkDrained()
  }

  private checkDrained(): void {
    if (this.index.byId.size !== 0 || this.state !== 'running' || this.drainedSignalled) return
    this.drainedSignalled = true
    for (const waiter of this.drainWaiters.splice(0)) waiter.resolve()
    this.emitEvent('drained', () => ({}))
  }

  private result(id: string, outcome: SendOutcome): SendResult {
    const result: SendResult = { id, status: outcome.status }
    if (outcome.reply !== undefined) result.reply = outcome.reply
    if (outcome.status === 'queued') {
      const entry = this.index.byId.get(id)
      if (entry !== undefined) result.nextAttemptAt = entry.nextAttemptAt
    }
    return result
  }

  private waitFor<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    return signal === undefined ? promise : raceAbort(() => promise, signal)
  }

  private assertRunning(): void {
    if (this.state !== 'running') {
      throw new OutboxStoppedError(`outbox is ${this.state}, not running`)
    }
  }

  private emitEvent<K extends keyof OutboxEvents>(type: K, detail: () => OutboxEvents[K]): void {
    if (this.listenerCount(type) === 0) return
    this.safeDispatchEvent(type, { detail: detail() })
  }

  private clear(): void {
    this.index.clear()
    this.scheduler.clear()
    this.health.reset()
    this.totals.delivered = 0
    this.totals.failedAttempts = 0
    this.totals.abandoned = 0
    this.totals.expired = 0
  }
}

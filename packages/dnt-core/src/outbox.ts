import { backoffDelay } from './backoff.js'
import {
  DeliveryRejectedError,
  describeError,
  MessageTooLargeError,
  OutboxFullError,
  OutboxStoppedError,
  PeerUnreachableError,
  StoreUnavailableError
} from './errors.js'
import { type OutboxEvents, TypedEventTarget } from './events.js'
import { createId } from './id.js'
import type { Logger } from './logger.js'
import {
  type OutboxInit,
  type ResolvedOutboxInit,
  resolveOutboxInit,
  STORE_RETRY_INITIAL,
  STORE_RETRY_MAX
} from './outbox-options.js'
import { PeerQueue } from './peer-queue.js'
import { PendingEntry } from './pending-entry.js'
import { type Level, levelOf, NONE } from './policy.js'
import { type OutboxStats, TallyMap } from './stats.js'
import { StoreWriter } from './store-writer.js'
import { TimerHeap } from './timer-heap.js'
import type { Entry, Message } from './types.js'
import { validateMessage } from './validate.js'

export interface SendOptions {
  /** Use this level instead of the one the policy maps the protocol to. */
  level?: string
}

export interface SendResult {
  id: string
  /**
   * `delivered`: the peer has it. `queued`: it waits for a later attempt (in
   * the store, durably, when its level persists). `abandoned`: its level
   * allows no retry and the first attempt failed.
   */
  status: 'delivered' | 'queued' | 'abandoned'
}

/** Which entries `purge()` removes. */
export type PurgeSelector = { ids: string[] } | { peer: string } | { all: true }

/** Behaviour of entries whose level is no longer in the policy: kept and retried, never lost. */
const RESTORED_LEVEL: Level = {
  persist: true,
  maxRetries: Infinity,
  ttl: Infinity,
  backoff: { type: 'exponential', initial: 1_000, max: 300_000, jitter: 'full' },
  onExhausted: 'dead-letter'
}

/** How many recently reachable peers keep their "pipelining allowed" state after their queue emptied. */
const PROVEN_PEERS_REMEMBERED = 4096

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      }
    )
  })
}

/**
 * The retry scheduler. Keeps one FIFO queue per peer, makes one delivery
 * attempt per peer at a time after a failure, backs off per peer, sleeps
 * until the next peer is due, flushes a peer as soon as the transport says it
 * is reachable, and writes persisted levels through group commit: at most one
 * `Store.apply` in flight, the next batch gathering everything that arrived.
 *
 * Events (`addEventListener(name, (event) => event.detail)`): see `OutboxEvents`.
 */
export class Outbox extends TypedEventTarget<OutboxEvents> {
  private readonly options: ResolvedOutboxInit
  private readonly log: Logger
  private readonly peers = new Map<string, PeerQueue>()
  private readonly byId = new Map<string, PendingEntry>()
  private readonly dead = new Map<string, PendingEntry>()
  private readonly heap = new TimerHeap<PeerQueue>()
  private readyList: PeerQueue[] = []
  private timer: unknown
  private timerAt = Infinity
  private activePeers = 0
  private inFlight = 0
  private queuedBytes = 0
  private readonly byLevel = new TallyMap()
  private readonly byProtocol = new TallyMap()
  private totals = { delivered: 0, failedAttempts: 0, abandoned: 0, expired: 0 }
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new'
  private writer: StoreWriter
  private storeHealthy = true
  private storeRetryDelay = STORE_RETRY_INITIAL
  private storeRetryTimer: unknown
  private unsubscribeReachable: (() => void) | undefined
  private readonly attempts = new Set<{ controller: AbortController; settled: Promise<void> }>()
  private drainWaiters: Array<() => void> = []
  /** Peers whose queue emptied after a success: their next queue may pipeline at once. */
  private readonly provenPeers = new Set<string>()
  /** Nothing queued since the last `drained` event. */
  private drainedSignalled = true

  private paused: boolean

  constructor(init: OutboxInit) {
    super()
    this.options = resolveOutboxInit(init)
    this.paused = this.options.paused
    this.log = this.options.logger('dntkit:outbox')
    this.writer = this.createWriter()
  }

  /** Entries waiting for delivery (in flight included). */
  get size(): number {
    return this.byId.size
  }

  get running(): boolean {
    return this.state === 'running'
  }

  /** Entries queued for `peer` (in flight included). */
  queuedFor(peer: string): number {
    return this.peers.get(peer)?.size ?? 0
  }

  /** Stops starting deliveries (those in flight finish); `send()` still queues. */
  pause(): void {
    this.paused = true
  }

  /** Starts delivering again, from where each peer's backoff stands. */
  resume(): void {
    if (!this.paused) return
    this.paused = false
    for (const queue of Array.from(this.peers.values())) this.schedule(queue)
  }

  /** Opens the store, restores what it holds and starts delivering. */
  async start(): Promise<void> {
    if (this.state !== 'new' && this.state !== 'stopped') {
      throw new OutboxStoppedError(`cannot start an outbox that is ${this.state}`)
    }
    this.state = 'starting'
    this.writer = this.createWriter()
    try {
      const opened = await this.options.store.open()
      for await (const entry of opened) this.restore(entry)
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
    this.log('started with %d queued and %d dead-lettered entries', this.byId.size, this.dead.size)
    for (const queue of this.peers.values()) this.schedule(queue)
  }

  /**
   * Lets in-flight deliveries settle (aborting them after `stopTimeout`),
   * writes what is pending to the store and closes it. Persisted entries stay
   * in the store; memory-only entries are gone.
   */
  async stop(): Promise<void> {
    if (this.state !== 'running') return
    this.state = 'stopping'
    this.unsubscribeReachable?.()
    this.unsubscribeReachable = undefined
    this.disarm()
    if (this.storeRetryTimer !== undefined) this.options.clock.clearTimeout(this.storeRetryTimer)
    this.storeRetryTimer = undefined
    const settled = Promise.all(Array.from(this.attempts, (attempt) => attempt.settled))
    let bound: ReturnType<typeof setTimeout> | undefined
    const timedOut = new Promise<boolean>((resolve) => {
      bound = setTimeout(() => resolve(true), this.options.stopTimeout)
    })
    if (await Promise.race([settled.then(() => false), timedOut])) {
      for (const attempt of this.attempts) {
        attempt.controller.abort(new OutboxStoppedError('outbox stopped during delivery'))
      }
      await Promise.all(Array.from(this.attempts, (attempt) => attempt.settled))
    }
    clearTimeout(bound)
    await this.writer.idle()
    for (const queue of this.peers.values()) queue.resolveRound()
    const stopped = new OutboxStoppedError('outbox stopped')
    for (const entry of this.byId.values()) if (entry.waiter !== undefined) entry.fail(stopped)
    this.clear()
    this.state = 'stopped'
    await this.options.store.close()
    this.log('stopped')
  }

  /**
   * Delivers `message` now, or queues it behind the peer's queued entries or
   * backoff. Resolves `queued` only when a persisted entry is durable. Level
   * `none`: one attempt, whose error is thrown to the caller.
   */
  async send(message: Message, options: SendOptions = {}): Promise<SendResult> {
    if (this.state !== 'running')
      throw new OutboxStoppedError(`outbox is ${this.state}, not running`)
    validateMessage(message)
    const levelName = options.level ?? levelOf(this.options.policy, message.protocol)
    if (levelName === NONE) return this.deliverOnce(message)
    const level = this.options.policy.levels[levelName]
    if (level === undefined) throw new TypeError(`unknown level "${levelName}"`)
    const { limits } = this.options
    const bytes = message.payload.byteLength
    if (bytes > limits.maxPayloadBytes) {
      throw new MessageTooLargeError(
        `payload of ${bytes} bytes to ${message.peer} exceeds the maximum of ${limits.maxPayloadBytes} bytes`
      )
    }
    if (message.id !== undefined && (this.byId.has(message.id) || this.dead.has(message.id))) {
      return { id: message.id, status: 'queued' }
    }
    if (level.persist && !this.storeHealthy) {
      throw new StoreUnavailableError(
        'the store is failing; persisted messages are refused until it recovers'
      )
    }
    const queue = this.peers.get(message.peer)
    this.checkCapacity(message.peer, bytes, queue)
    const now = this.options.clock.now()
    const entry = new PendingEntry(message, message.id ?? createId(now), levelName, now)
    const peerQueue = queue ?? this.createQueue(message.peer)
    const busy = this.paused || peerQueue.size > 0 || peerQueue.retryAt > now
    const outcome = new Promise<SendResult['status']>((resolve, reject) => {
      entry.waiter = { resolve, reject }
    })
    if (busy && level.persist) {
      // a first attempt still running ahead of this entry is written first, so that the
      // store's order stays the peer's FIFO order if the process dies now
      const head = peerQueue.first()
      if (head !== undefined && !head.accepted && this.levelConfig(head.level).persist) {
        this.writer.put(head).catch(() => {})
      }
    }
    this.track(peerQueue, entry, level)
    if (busy) this.accept(entry, level)
    this.schedule(peerQueue)
    return { id: entry.id, status: await outcome }
  }

  /** Attempts now, ignoring backoff; resolves when that round ended (queue empty or a failure). */
  async flush(peer?: string): Promise<void> {
    const queues = peer === undefined ? Array.from(this.peers.values()) : [this.peers.get(peer)]
    const rounds: Promise<void>[] = []
    for (const queue of queues) {
      if (queue === undefined || queue.size === 0 || this.state !== 'running') continue
      rounds.push(new Promise<void>((resolve) => queue.roundWaiters.push(resolve)))
      queue.retryAt = 0
      this.schedule(queue)
    }
    await Promise.all(rounds)
  }

  /** What the transport's `onReachable` triggers: reset the peer's backoff and flush it (per policy). */
  peerReachable(peer: string): void {
    this.emit('peer-reachable', () => ({ peer }))
    if (!this.options.policy.flushOnReachable || this.state !== 'running') return
    const queue = this.peers.get(peer)
    if (queue === undefined) return
    this.log.trace('peer %s reachable: flushing %d entries', peer, queue.size)
    queue.failures = 0
    queue.retryAt = 0
    this.schedule(queue)
  }

  /** Resolves when nothing is queued (dead letters aside); rejects if `signal` aborts first. */
  whenDrained(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.byId.size === 0) return Promise.resolve()
    const drained = new Promise<void>((resolve) => this.drainWaiters.push(resolve))
    return options.signal === undefined ? drained : raceAbort(drained, options.signal)
  }

  /** Copies of the queued entries, FIFO per peer. */
  entries(filter: { peer?: string } = {}): Entry[] {
    const result: Entry[] = []
    for (const queue of this.peers.values()) {
      if (filter.peer !== undefined && queue.peer !== filter.peer) continue
      for (const entry of queue.entries()) result.push(entry.toEntry())
    }
    return result
  }

  /** Copies of the dead-lettered entries. */
  deadLetters(): Entry[] {
    return Array.from(this.dead.values(), (entry) => entry.toEntry())
  }

  /** Moves dead letters back into their peers' queues (attempts and age reset); returns how many. */
  async requeue(ids: string[]): Promise<number> {
    this.assertRunning()
    const writes: Promise<void>[] = []
    const requeued: PendingEntry[] = []
    let count = 0
    for (const id of ids) {
      const entry = this.dead.get(id)
      if (entry === undefined) continue
      const level = this.levelConfig(entry.level)
      const queue = this.peers.get(entry.peer)
      this.checkCapacity(entry.peer, entry.payload.byteLength, queue)
      this.dead.delete(id)
      const now = this.options.clock.now()
      entry.deadLetter = undefined
      entry.attempts = 0
      entry.createdAt = now
      entry.nextAttemptAt = now
      entry.lastError = undefined
      entry.done = false
      entry.accepted = true
      const peerQueue = queue ?? this.createQueue(entry.peer)
      this.track(peerQueue, entry, level)
      if (level.persist) writes.push(this.writer.put(entry))
      requeued.push(entry)
      count++
    }
    await Promise.all(writes)
    for (const entry of requeued) {
      this.emit('queued', () => ({ entry: entry.toEntry() }))
      const queue = this.peers.get(entry.peer)
      if (queue !== undefined) this.schedule(queue)
    }
    return count
  }

  /** Removes queued and dead-lettered entries from memory and store; returns how many. */
  async purge(selector: PurgeSelector): Promise<number> {
    this.assertRunning()
    const ids = 'ids' in selector ? new Set(selector.ids) : undefined
    const matches = (entry: PendingEntry): boolean =>
      'all' in selector
        ? selector.all === true
        : 'peer' in selector
          ? entry.peer === selector.peer
          : (ids as Set<string>).has(entry.id)
    const writes: Promise<void>[] = []
    const removed: PendingEntry[] = []
    const touched = new Set<PeerQueue>()
    for (const queue of this.peers.values()) {
      for (const entry of Array.from(queue.entries())) {
        if (!matches(entry)) continue
        this.untrack(queue, entry)
        writes.push(this.writer.delete(entry))
        entry.settle('abandoned')
        removed.push(entry)
        touched.add(queue)
      }
    }
    for (const entry of Array.from(this.dead.values())) {
      if (!matches(entry)) continue
      this.dead.delete(entry.id)
      writes.push(this.writer.delete(entry))
      removed.push(entry)
    }
    for (const queue of touched) this.schedule(queue)
    await Promise.all(writes)
    if (removed.length > 0)
      this.emit('purged', () => ({ entries: removed.map((entry) => entry.toEntry()) }))
    this.checkDrained()
    return removed.length
  }

  stats(): OutboxStats {
    const now = this.options.clock.now()
    let oldest = Infinity
    const byPeer: OutboxStats['byPeer'] = {}
    for (const queue of this.peers.values()) {
      if (queue.size === 0) continue
      byPeer[queue.peer] = { entries: queue.size, bytes: queue.bytes }
      for (const entry of queue.entries()) oldest = Math.min(oldest, entry.createdAt)
    }
    return {
      queued: this.byId.size,
      bytes: this.queuedBytes,
      inFlight: this.inFlight,
      peers: Object.keys(byPeer).length,
      deadLetters: this.dead.size,
      oldestAge: oldest === Infinity ? null : Math.max(0, now - oldest),
      byLevel: this.byLevel.toRecord(),
      byPeer,
      byProtocol: this.byProtocol.toRecord(),
      totals: { ...this.totals },
      storeHealthy: this.storeHealthy
    }
  }

  // ---- bookkeeping ----

  private createWriter(): StoreWriter {
    return new StoreWriter(this.options.store, {
      onError: (error) => this.storeFailed(error),
      onSuccess: () => this.storeRecovered()
    })
  }

  private assertRunning(): void {
    if (this.state !== 'running')
      throw new OutboxStoppedError(`outbox is ${this.state}, not running`)
  }

  private levelConfig(name: string): Level {
    return this.options.policy.levels[name] ?? RESTORED_LEVEL
  }

  private createQueue(peer: string): PeerQueue {
    const queue = new PeerQueue(peer)
    queue.proven = this.provenPeers.delete(peer)
    this.peers.set(peer, queue)
    return queue
  }

  private rememberProven(peer: string): void {
    this.provenPeers.add(peer)
    if (this.provenPeers.size > PROVEN_PEERS_REMEMBERED) {
      const oldest = this.provenPeers.values().next().value
      if (oldest !== undefined) this.provenPeers.delete(oldest)
    }
  }

  private checkCapacity(peer: string, bytes: number, queue: PeerQueue | undefined): void {
    const { limits } = this.options
    if (this.byId.size + 1 > limits.maxEntries || this.queuedBytes + bytes > limits.maxBytes) {
      throw new OutboxFullError(
        `outbox full: ${this.byId.size} entries and ${this.queuedBytes} bytes queued (limits: ${limits.maxEntries} entries, ${limits.maxBytes} bytes)`
      )
    }
    const entries = queue?.size ?? 0
    const queued = queue?.bytes ?? 0
    if (entries + 1 > limits.maxEntriesPerPeer || queued + bytes > limits.maxBytesPerPeer) {
      throw new OutboxFullError(
        `outbox full for peer ${peer}: ${entries} entries and ${queued} bytes queued (limits per peer: ${limits.maxEntriesPerPeer} entries, ${limits.maxBytesPerPeer} bytes)`
      )
    }
  }

  private restore(stored: Entry): void {
    const entry = PendingEntry.fromEntry(stored)
    entry.accepted = true
    if (entry.deadLetter !== undefined) {
      this.dead.set(entry.id, entry)
      return
    }
    if (this.byId.has(entry.id)) return
    const queue = this.peers.get(entry.peer) ?? this.createQueue(entry.peer)
    if (queue.size === 0) queue.retryAt = entry.nextAttemptAt
    this.track(queue, entry, this.levelConfig(entry.level))
  }

  private track(queue: PeerQueue, entry: PendingEntry, level: Level): void {
    this.drainedSignalled = false
    queue.push(entry)
    this.byId.set(entry.id, entry)
    const bytes = entry.payload.byteLength
    this.queuedBytes += bytes
    this.byLevel.add(entry.level, bytes)
    this.byProtocol.add(entry.protocol, bytes)
    const expiry = entry.createdAt + level.ttl
    if (expiry < queue.nextExpiry) {
      queue.nextExpiry = expiry
      if (this.heap.has(queue) && expiry < queue.wakeAt) {
        this.heap.set(queue, expiry)
        this.arm()
      }
    }
  }

  private untrack(queue: PeerQueue, entry: PendingEntry): void {
    if (entry.done) return
    queue.finish(entry)
    this.byId.delete(entry.id)
    const bytes = entry.payload.byteLength
    this.queuedBytes -= bytes
    this.byLevel.remove(entry.level, bytes)
    this.byProtocol.remove(entry.protocol, bytes)
  }

  private checkDrained(): void {
    if (this.byId.size !== 0 || this.state !== 'running' || this.drainedSignalled) return
    this.drainedSignalled = true
    const waiters = this.drainWaiters
    this.drainWaiters = []
    for (const resolve of waiters) resolve()
    this.emit('drained', () => ({}))
  }

  /** The entry is now the outbox's responsibility: durable first when its level persists. */
  private accept(entry: PendingEntry, level: Level): void {
    entry.accepted = true
    if (!level.persist) {
      this.emit('queued', () => ({ entry: entry.toEntry() }))
      entry.settle('queued')
      return
    }
    this.writer.put(entry).then(
      () => {
        if (entry.waiter === undefined) return
        this.emit('queued', () => ({ entry: entry.toEntry() }))
        entry.settle('queued')
      },
      (error: unknown) => {
        if (entry.waiter === undefined) return
        // never became durable, so it was never accepted: the caller gets the error
        const queue = this.peers.get(entry.peer)
        if (queue !== undefined) {
          this.untrack(queue, entry)
          this.schedule(queue)
        }
        entry.fail(error)
        this.checkDrained()
      }
    )
  }

  private clear(): void {
    this.peers.clear()
    this.byId.clear()
    this.dead.clear()
    this.provenPeers.clear()
    this.heap.clear()
    this.readyList = []
    this.queuedBytes = 0
    this.byLevel.clear()
    this.byProtocol.clear()
    this.totals = { delivered: 0, failedAttempts: 0, abandoned: 0, expired: 0 }
    this.storeHealthy = true
    this.storeRetryDelay = STORE_RETRY_INITIAL
  }

  // ---- scheduling ----

  /** Puts a peer where it belongs: dropped when empty, in the timer heap while waiting, or delivering. */
  private schedule(queue: PeerQueue): void {
    if (queue.size === 0) {
      if (queue.inFlight === 0) {
        this.heap.remove(queue)
        if (this.peers.get(queue.peer) === queue) {
          this.peers.delete(queue.peer)
          if (queue.proven) this.rememberProven(queue.peer)
        }
        queue.resolveRound()
        this.checkDrained()
      }
      return
    }
    if (this.state !== 'running') return
    const now = this.options.clock.now()
    if (queue.nextExpiry <= now) {
      this.expireDue(queue, now)
      if (queue.size === 0) {
        this.schedule(queue)
        return
      }
    }
    const wakeAt = Math.min(queue.retryAt, queue.nextExpiry)
    if (wakeAt > now) {
      this.heap.set(queue, wakeAt)
      this.arm()
      return
    }
    this.heap.remove(queue)
    if (this.paused) return
    if (queue.inFlight > 0 || this.activePeers < this.options.concurrency) this.fill(queue)
    else if (!queue.ready) {
      queue.ready = true
      this.readyList.push(queue)
    }
  }

  private arm(): void {
    const top = this.heap.peek()
    const wakeAt = top?.wakeAt ?? Infinity
    if (wakeAt === this.timerAt) return
    this.disarm()
    if (top === undefined) return
    this.timerAt = wakeAt
    this.timer = this.options.clock.setTimeout(
      () => this.onTimer(),
      Math.max(0, wakeAt - this.options.clock.now())
    )
  }

  private disarm(): void {
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = Infinity
  }

  private onTimer(): void {
    this.timer = undefined
    this.timerAt = Infinity
    const now = this.options.clock.now()
    for (
      let top = this.heap.peek();
      top !== undefined && top.wakeAt <= now;
      top = this.heap.peek()
    ) {
      this.heap.pop()
      this.schedule(top)
    }
    this.arm()
  }

  private pumpReady(): void {
    while (this.readyList.length > 0 && this.activePeers < this.options.concurrency) {
      const queue = this.readyList.shift() as PeerQueue
      queue.ready = false
      this.schedule(queue)
    }
  }

  private fill(queue: PeerQueue): void {
    const window = queue.proven ? this.options.perPeerConcurrency : 1
    const free = window - queue.inFlight
    if (free <= 0) return
    for (const entry of queue.takeNext(free)) this.dispatch(queue, entry)
  }

  private dispatch(queue: PeerQueue, entry: PendingEntry): void {
    if (queue.inFlight === 0) this.activePeers++
    queue.inFlight++
    this.inFlight++
    entry.inFlight = true
    const round = queue.round
    const { clock, attemptTimeout, transport } = this.options
    const controller = new AbortController()
    const timer = clock.setTimeout(() => {
      controller.abort(
        new PeerUnreachableError(`delivery to ${entry.peer} timed out after ${attemptTimeout} ms`)
      )
    }, attemptTimeout)
    let delivery: Promise<void>
    try {
      delivery = raceAbort(
        transport.deliver(entry, { signal: controller.signal }),
        controller.signal
      )
    } catch (error) {
      delivery = Promise.reject(error)
    }
    const attempt = {
      controller,
      settled: delivery.then(
        () => this.delivered(queue, entry),
        (error: unknown) => this.failed(queue, entry, round, error)
      )
    }
    this.attempts.add(attempt)
    void attempt.settled.finally(() => {
      clock.clearTimeout(timer)
      this.attempts.delete(attempt)
    })
  }

  private release(queue: PeerQueue, entry: PendingEntry): void {
    entry.inFlight = false
    queue.inFlight--
    this.inFlight--
    if (queue.inFlight === 0) this.activePeers--
  }

  private afterAttempt(queue: PeerQueue): void {
    this.schedule(queue)
    this.pumpReady()
  }

  private delivered(queue: PeerQueue, entry: PendingEntry): void {
    this.release(queue, entry)
    queue.proven = true
    queue.failures = 0
    queue.retryAt = 0
    if (!entry.done) {
      this.untrack(queue, entry)
      this.totals.delivered++
      if (this.levelConfig(entry.level).persist || entry.stored) {
        this.writer.delete(entry).catch(() => {})
      }
      entry.settle('delivered')
      this.emit('delivered', () => ({ entry: entry.toEntry(), attempts: entry.attempts + 1 }))
    }
    this.afterAttempt(queue)
  }

  private failed(queue: PeerQueue, entry: PendingEntry, round: number, error: unknown): void {
    this.release(queue, entry)
    if (entry.done) {
      // purged or retired while in flight: its outcome no longer matters
    } else if (DeliveryRejectedError.isInstance(error)) {
      // the peer answered: it is reachable, this one message is refused for good
      queue.proven = true
      this.abandon(queue, entry, 'rejected', error)
    } else if (round === queue.round && this.state === 'running') {
      this.failRound(queue, error)
    } else if (!entry.accepted) {
      this.accept(entry, this.levelConfig(entry.level))
    }
    this.afterAttempt(queue)
  }

  /** One failed attempt round: every entry queued to the peer spends one attempt. */
  private failRound(queue: PeerQueue, error: unknown): void {
    const now = this.options.clock.now()
    const head = queue.first()
    queue.round++
    queue.failures++
    queue.proven = false
    this.totals.failedAttempts++
    const delay = backoffDelay(
      this.levelConfig(head?.level ?? '').backoff,
      queue.failures,
      this.options.random
    )
    queue.retryAt = now + delay
    const message = describeError(error)
    let nextExpiry = Infinity
    for (const entry of Array.from(queue.entries())) {
      const level = this.levelConfig(entry.level)
      entry.attempts++
      entry.lastError = message
      entry.nextAttemptAt = queue.retryAt
      if (entry.attempts > level.maxRetries) {
        this.abandon(queue, entry, 'exhausted', error)
        continue
      }
      const expiry = entry.createdAt + level.ttl
      if (expiry <= now) {
        this.expire(queue, entry, now)
        continue
      }
      nextExpiry = Math.min(nextExpiry, expiry)
      if (!entry.accepted) this.accept(entry, level)
      else if (level.persist && level.maxRetries !== Infinity) {
        // the retry budget is durable, so a restart does not reset it
        this.writer.put(entry).catch(() => {})
      }
    }
    queue.nextExpiry = nextExpiry
    this.log(
      'attempt to %s failed (%d in a row), %d queued, next in %d ms: %s',
      queue.peer,
      queue.failures,
      queue.size,
      Math.round(delay),
      message
    )
    this.emit('attempt-failed', () => ({
      peer: queue.peer,
      error,
      queued: queue.size,
      failures: queue.failures,
      nextAttemptAt: queue.retryAt
    }))
    queue.resolveRound()
  }

  private expireDue(queue: PeerQueue, now: number): void {
    let nextExpiry = Infinity
    for (const entry of Array.from(queue.entries())) {
      if (entry.inFlight) continue
      const expiry = entry.createdAt + this.levelConfig(entry.level).ttl
      if (expiry <= now) this.expire(queue, entry, now)
      else nextExpiry = Math.min(nextExpiry, expiry)
    }
    queue.nextExpiry = nextExpiry
  }

  private expire(queue: PeerQueue, entry: PendingEntry, now: number): void {
    const deadLetter = this.retire(queue, entry, 'expired', now)
    this.totals.expired++
    this.log('entry %s to %s expired', entry.id, entry.peer)
    this.emit('expired', () => ({ entry: entry.toEntry(), deadLetter }))
  }

  private abandon(
    queue: PeerQueue,
    entry: PendingEntry,
    reason: 'exhausted' | 'rejected',
    error: unknown
  ): void {
    this.totals.abandoned++
    this.log('entry %s to %s abandoned (%s)', entry.id, entry.peer, reason)
    if (!entry.accepted && reason === 'rejected') {
      // refused on the first attempt, which the caller still waits for: the caller gets the error
      this.untrack(queue, entry)
      this.emit('abandoned', () => ({ entry: entry.toEntry(), reason, error, deadLetter: false }))
      entry.fail(error)
      return
    }
    const deadLetter = this.retire(queue, entry, reason, this.options.clock.now())
    this.emit('abandoned', () => ({ entry: entry.toEntry(), reason, error, deadLetter }))
  }

  /** Takes an entry out of the queue into the dead-letter list or nowhere, per its level. */
  private retire(
    queue: PeerQueue,
    entry: PendingEntry,
    reason: 'exhausted' | 'expired' | 'rejected',
    now: number
  ): boolean {
    this.untrack(queue, entry)
    const level = this.levelConfig(entry.level)
    const deadLetter = level.onExhausted === 'dead-letter'
    if (deadLetter) {
      entry.deadLetter = { reason, at: now }
      this.dead.set(entry.id, entry)
      if (level.persist) this.writer.put(entry).catch(() => {})
    } else {
      this.writer.delete(entry).catch(() => {})
    }
    entry.settle('abandoned')
    entry.accepted = true
    return deadLetter
  }

  // ---- store health ----

  private storeFailed(error: unknown): void {
    const wasHealthy = this.storeHealthy
    this.storeHealthy = false
    this.log.error('store write failed: %s', describeError(error))
    this.emit('store-error', () => ({ error, recovered: false }))
    if (this.storeRetryTimer !== undefined || this.state !== 'running') return
    if (!wasHealthy) this.storeRetryDelay = Math.min(STORE_RETRY_MAX, this.storeRetryDelay * 2)
    this.storeRetryTimer = this.options.clock.setTimeout(() => {
      this.storeRetryTimer = undefined
      if (this.state === 'running') this.writer.retry().catch(() => {})
    }, this.storeRetryDelay)
  }

  private storeRecovered(): void {
    if (this.storeHealthy) return
    this.storeHealthy = true
    this.storeRetryDelay = STORE_RETRY_INITIAL
    if (this.storeRetryTimer !== undefined) this.options.clock.clearTimeout(this.storeRetryTimer)
    this.storeRetryTimer = undefined
    this.log('store recovered')
    this.emit('store-error', () => ({ error: undefined, recovered: true }))
  }

  private async deliverOnce(message: Message): Promise<SendResult> {
    const { clock, attemptTimeout, transport } = this.options
    const now = clock.now()
    const entry = new PendingEntry(message, message.id ?? createId(now), NONE, now)
    const controller = new AbortController()
    const timer = clock.setTimeout(() => {
      controller.abort(
        new PeerUnreachableError(`delivery to ${message.peer} timed out after ${attemptTimeout} ms`)
      )
    }, attemptTimeout)
    try {
      await raceAbort(
        transport.deliver(entry.toEntry(), { signal: controller.signal }),
        controller.signal
      )
      return { id: entry.id, status: 'delivered' }
    } finally {
      clock.clearTimeout(timer)
    }
  }
}

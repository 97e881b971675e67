import { TypedEventEmitter } from 'main-event'
import { Drain } from './drain.js'
import { OutboxStoppedError } from './errors.js'
import type { OutboxEventMap, OutboxEvents } from './events.js'
import { checkOptions } from './option-names.js'
import { type OutboxInit, type ResolvedOutboxInit, resolveOutboxInit } from './outbox-options.js'
import { assembleParts, type OutboxParts } from './outbox-parts.js'
import { type OutboxStats, snapshotStats } from './outbox-stats.js'
import { peerText } from './outgoing-message.js'
import type { PeerQueue } from './peer-queue.js'
import { type PurgeSelector, purge, requeue } from './queue-edits.js'
import { flushNow, onPeerReachable } from './reachability.js'
import { pendingReplies, takeReply } from './replies.js'
import { sendMessage } from './send-flow.js'
import type { PendingReply, SendOptions, SendResult } from './send-types.js'
import { adoptEntries, restoreEntry, stopGracefully } from './session.js'
import type { Entry, OutgoingMessage, PeerIdLike } from './types.js'

export type { PurgeSelector } from './queue-edits.js'
export type { PendingReply, SendOptions, SendResult } from './send-types.js'

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped'

/**
 * The retry scheduler: one FIFO queue per peer, one attempt per peer at a
 * time after a failure, backoff per peer on monotonic time, an early attempt
 * when the transport says a peer is reachable (at most one per backoff
 * window), and a durable ledger that writes persisted levels through group
 * commit, retrying every write until it lands. A facade over its parts (see
 * the package README, "How the Outbox is built"). Events
 * (`addEventListener(name, (event) => event.detail)`): see `OutboxEvents`.
 */
export class Outbox extends TypedEventEmitter<OutboxEventMap> {
  private readonly options: ResolvedOutboxInit
  private readonly parts: OutboxParts
  private readonly drain = new Drain()
  private state: State = 'new'
  private paused: boolean
  private unsubscribeReachable: (() => void) | undefined

  constructor(init: OutboxInit) {
    super()
    this.options = resolveOutboxInit(init)
    this.paused = this.options.paused
    this.parts = assembleParts(this.options, {
      running: () => this.state === 'running',
      delivering: () => this.state === 'running' && !this.paused,
      emit: this.emitEvent.bind(this) as OutboxParts['context']['emit'],
      reschedule: (queue) => this.reschedule(queue),
      emptied: (queue) => this.emptied(queue)
    })
  }

  /** Entries waiting for delivery (in flight included). */
  get size(): number {
    return this.parts.index.byId.size
  }

  /** Started and not stopping. */
  get running(): boolean {
    return this.state === 'running'
  }

  /** Entries queued for `peer` (in flight included). */
  queuedFor(peer: string | PeerIdLike): number {
    return this.parts.index.peers.get(peerText(peer, 'queuedFor() peer'))?.size ?? 0
  }

  /** Stops starting deliveries (those in flight finish); `send()` still queues. */
  pause(): void {
    this.paused = true
  }

  /** Starts delivering again, from where each peer's backoff stands. */
  resume(): void {
    if (!this.paused) return
    this.paused = false
    this.rescheduleAll()
  }

  /** Opens the store, restores what it holds and starts delivering. Writes nothing. */
  async start(): Promise<void> {
    if (this.state !== 'new' && this.state !== 'stopped') {
      throw new OutboxStoppedError(`cannot start an outbox that is ${this.state}`)
    }
    this.state = 'starting'
    this.parts.renewLedger()
    const { context, index } = this.parts
    try {
      for await (const entry of await this.options.store.open()) restoreEntry(context, entry)
    } catch (error) {
      this.state = 'stopped'
      this.parts.reset()
      await this.options.store.close().catch(() => {})
      throw error
    }
    this.unsubscribeReachable = this.options.transport.onReachable?.((peer) =>
      this.peerReachable(peer)
    )
    this.state = 'running'
    this.drain.reset(this.size === 0)
    context.log('started: %d queued, %d dead letters', this.size, index.dead.size)
    this.rescheduleAll()
  }

  /**
   * Bounded: deliveries in flight get `stopTimeout`, then are aborted; pending
   * writes get `stopTimeout` again; the store is closed. Every waiting call settles.
   */
  async stop(): Promise<void> {
    if (this.state !== 'running') return
    this.state = 'stopping'
    this.unsubscribeReachable?.()
    this.unsubscribeReachable = undefined
    const { context, fates, deliveries, index, scheduler, health } = this.parts
    scheduler.clear()
    health.clear()
    await stopGracefully(context, fates, deliveries)
    const stopped = new OutboxStoppedError('outbox stopped')
    for (const held of [index.byId, index.dead])
      for (const entry of held.values()) entry.fail(stopped)
    for (const queue of index.peers.values()) queue.resolveRound()
    this.drain.stop(stopped)
    this.parts.reset()
    this.state = 'stopped'
    await this.options.store.close()
    context.log('stopped')
  }

  /**
   * Delivers `message` now, or queues it (FIFO per peer); `queued` only once a
   * persisted entry is durable. Level `none`: one attempt, its error thrown. An
   * id sent again is answered as the first send was (see `DuplicateIdError`).
   */
  async send(message: OutgoingMessage, options: SendOptions = {}): Promise<SendResult> {
    this.assertRunning()
    const { context, deliveries, health } = this.parts
    return sendMessage(context, deliveries, health.healthy, message, options)
  }

  /** Replies of messages delivered after their `send()` returned, until taken (persisted with their level). */
  replies(): PendingReply[] {
    return pendingReplies(this.parts.index)
  }

  /** Takes the reply of `id`: resolves with it once gone from the store too (`undefined`: none). */
  async takeReply(id: string): Promise<Uint8Array | undefined> {
    this.assertRunning()
    return takeReply(this.parts.context, id)
  }

  /** Attempts `peer`'s queue (or all) now, ignoring backoff; resolves when that round ended. */
  async flush(peer?: string | PeerIdLike): Promise<void> {
    const text = peer === undefined ? undefined : peerText(peer, 'flush() peer')
    if (this.state === 'running' && !this.paused) await flushNow(this.parts.context, text)
  }

  /** The transport's `onReachable`: an early attempt, at most one per backoff window (`flushOnReachable`). */
  peerReachable(peer: string | PeerIdLike): void {
    const text = peerText(peer, 'peerReachable() peer')
    this.emitEvent('peer-reachable', () => ({ peer: text }))
    if (this.options.policy.flushOnReachable && this.state === 'running') {
      onPeerReachable(this.parts.context, text)
    }
  }

  /** Resolves when nothing is queued (dead letters aside); rejects on `stop()` or when `signal` aborts. */
  async whenDrained(options: { signal?: AbortSignal } = {}): Promise<void> {
    checkOptions(options, ['signal'], 'whenDrained() options')
    if (this.state !== 'running' && this.state !== 'starting') {
      throw new OutboxStoppedError(`outbox is ${this.state}, not running`)
    }
    if (this.size > 0) await this.drain.wait(options.signal)
  }

  /** Copies of the queued entries (of one peer with `{ peer }`), FIFO per peer. */
  entries(filter: { peer?: string | PeerIdLike } = {}): Entry[] {
    const { peer } = checkOptions(filter, ['peer'], 'entries() filter')
    return this.parts.index.queuedCopies(peer && peerText(peer, 'entries() filter peer'))
  }

  /** Copies of the dead-lettered entries. */
  deadLetters(): Entry[] {
    return Array.from(this.parts.index.dead.values(), (entry) => entry.toEntry())
  }

  /** Moves dead letters back into their peers' queues (all or nothing); returns how many. */
  async requeue(ids: string[]): Promise<number> {
    this.assertRunning()
    const { context, fates, health } = this.parts
    return requeue(context, fates, ids, health.healthy)
  }

  /**
   * Takes over entries the application wrote to the store in its own batch
   * (the transactional outbox; see `createEntry()`): queued, not written again.
   * Returns how many (ids already held with the same message are skipped).
   */
  adopt(entries: Entry[]): number {
    this.assertRunning()
    return adoptEntries(this.parts.context, entries).length
  }

  /** Removes queued and dead-lettered entries, and replies, from memory and store; returns how many. */
  async purge(selector: PurgeSelector): Promise<number> {
    this.assertRunning()
    const removed = await purge(this.parts.context, selector)
    this.checkDrained()
    return removed
  }

  /** Counts, bytes, health, pending writes, replies and latency percentiles; see `OutboxStats`. */
  stats(): OutboxStats {
    const { context, deliveries, health } = this.parts
    return snapshotStats(context, { inFlight: deliveries.inFlight, storeHealthy: health.healthy })
  }

  private rescheduleAll(): void {
    for (const queue of Array.from(this.parts.index.peers.values())) this.reschedule(queue)
  }

  private reschedule(queue: PeerQueue): void {
    const { scheduler, fates } = this.parts
    if (this.size > 0) this.drain.dirty()
    scheduler.schedule(queue)
    if (this.state === 'running' && queue.size > 0) fates.acceptWaiting(queue)
    scheduler.pump()
  }

  private emptied(queue: PeerQueue): void {
    this.parts.index.forget(queue)
    queue.resolveRound()
    this.checkDrained()
  }

  private checkDrained(): void {
    if (this.size !== 0 || this.state !== 'running') return
    if (this.drain.empty()) this.emitEvent('drained', () => ({}))
  }

  private assertRunning(): void {
    if (this.state !== 'running')
      throw new OutboxStoppedError(`outbox is ${this.state}, not running`)
  }

  private emitEvent<K extends keyof OutboxEvents>(type: K, detail: () => OutboxEvents[K]): void {
    if (this.listenerCount(type) === 0) return
    this.safeDispatchEvent(type, { detail: detail() })
  }
}

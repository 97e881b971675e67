import {
  defaultLogger,
  defaultPreset,
  describeError,
  type Entry,
  type Logger,
  Outbox,
  type Policy,
  type SendResult
} from '@dntkit/core'
import { checkOptions } from '@dntkit/core/plugin'
import {
  type PeerId,
  type Startable,
  serviceCapabilities,
  serviceDependencies
} from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import {
  ENVELOPE_PER_PEER_CONCURRENCY,
  QUEUED_PEER_TAG,
  QUEUED_PEER_TAG_VALUE,
  SERVICE_LOG
} from './constants.js'
import { type DntMessage, type DntSendOptions, entryFor } from './dnt-message.js'
import { DntMetrics } from './dnt-metrics.js'
import { checkDntInit, type DntInit, outboxInit, transportInit } from './dnt-options.js'
import { type DntComponents, hostFromComponents } from './host.js'
import {
  createTransport,
  type Libp2pTransport,
  type ReopenableTransport
} from './libp2p-transport.js'
import { lendNode } from './node-lending.js'
import { countPeerLookups } from './peer-lookup-metrics.js'
import { QueuedEntries } from './queued-entries.js'

/** The service as `node.services.dnt` shows it. */
export interface Dnt extends Startable {
  /**
   * Delivers now or queues (see `Outbox.send`). `peer` and `addrs` may be a
   * `PeerId` and `Multiaddr`s. `signal` (libp2p's `AbortOptions`): aborted
   * before the message is durable, nothing of it is left and the call
   * rejects with the signal's reason; after, the message stays queued and
   * only the waiting stops.
   */
  send(message: DntMessage, options?: DntSendOptions): Promise<SendResult>
  /**
   * The entry the outbox would make of `message` (its level from the policy,
   * or `options.level`, which must persist), for an application that writes it
   * into the store in its own database batch (the transactional outbox:
   * `levelStore().batchOperations()`), then hands it to `outbox.adopt()`.
   */
  createEntry(message: DntMessage, options?: { level?: string }): Entry
  /** The outbox: events, `stats()`, `flush()`, `whenDrained()`, `entries()`, `adopt()`, `pause()` / `resume()`. */
  readonly outbox: Outbox
  /** The transport the outbox delivers with. */
  readonly transport: Libp2pTransport
}

class DntService implements Dnt {
  readonly [Symbol.toStringTag] = '@dntkit/dnt'
  readonly [serviceCapabilities]: string[] = ['@dntkit/outbox']
  /** It delivers over the node's connections: a node without a transport can never deliver. */
  readonly [serviceDependencies]: string[] = ['@libp2p/transport']
  readonly outbox: Outbox
  readonly transport: ReopenableTransport
  private readonly log: Logger
  private readonly tag: { name: string; value: number } | undefined
  private readonly metrics: DntMetrics | undefined
  private readonly policy: Policy
  private readonly clock: () => number
  private queued: QueuedEntries | undefined
  private detach: Array<() => void> = []
  private tagging: Promise<void> = Promise.resolve()
  private started = false

  constructor(
    private readonly components: DntComponents,
    init: DntInit
  ) {
    this.log = (init.logger ?? defaultLogger)(SERVICE_LOG)
    const transport = transportInit(init)
    this.transport = createTransport(hostFromComponents(components), transport)
    const perPeerConcurrency =
      init.perPeerConcurrency ??
      (transport.mode === 'envelope' ? ENVELOPE_PER_PEER_CONCURRENCY : undefined)
    // the store's key and datastore default to the node's own
    lendNode(init.store, components)
    this.outbox = new Outbox({
      ...outboxInit(init),
      ...(perPeerConcurrency == null ? {} : { perPeerConcurrency }),
      transport: this.transport
    })
    const tag = init.tagQueuedPeers ?? true
    if (tag !== false) {
      const options = tag === true ? {} : tag
      this.tag = {
        name: options.name ?? QUEUED_PEER_TAG,
        value: options.value ?? QUEUED_PEER_TAG_VALUE
      }
    }
    this.policy = init.policy ?? defaultPreset()
    const clock = init.clock
    this.clock = clock === undefined ? () => Date.now() : () => clock.now()
    if (components.metrics != null) this.metrics = new DntMetrics(components.metrics)
    if (components.metrics != null) countPeerLookups(components.metrics, this.transport)
  }

  isStarted(): boolean {
    return this.started
  }

  start(): void {
    this.transport.reopen()
  }

  /** The outbox starts once the node runs, so restored entries are dialed over a started node. */
  async afterStart(): Promise<void> {
    const queued = new QueuedEntries({
      peer: (peer, waiting) => this.tagPeer(peer, waiting),
      level: (level, count) => this.metrics?.level(level, count)
    })
    this.queued = queued
    for (const level of Object.keys(this.policy.levels)) this.metrics?.level(level, 0)
    const onQueued = (event: CustomEvent<{ entry: Entry }>): void => {
      queued.add(event.detail.entry)
    }
    const onLeft = (event: CustomEvent<{ entry: { id: string } }>): void => {
      queued.remove(event.detail.entry.id)
    }
    const onDrained = (): void => queued.clear()
    this.outbox.addEventListener('queued', onQueued)
    this.outbox.addEventListener('delivered', onLeft)
    this.outbox.addEventListener('abandoned', onLeft)
    this.outbox.addEventListener('expired', onLeft)
    this.outbox.addEventListener('drained', onDrained)
    this.detach.push(() => {
      this.outbox.removeEventListener('queued', onQueued)
      this.outbox.removeEventListener('delivered', onLeft)
      this.outbox.removeEventListener('abandoned', onLeft)
      this.outbox.removeEventListener('expired', onLeft)
      this.outbox.removeEventListener('drained', onDrained)
    })
    if (this.metrics != null)
      this.detach.push(this.metrics.attach(this.outbox, (peer) => queued.hasPeer(peer)))
    await this.outbox.start()
    // entries restored from the store wait too
    for (const entry of this.outbox.entries()) queued.add(entry)
    this.started = true
    void this.untagStale()
  }

  /** Lets in-flight deliveries settle while connections are still open. */
  async beforeStop(): Promise<void> {
    this.started = false
    await this.outbox.stop()
    await this.transport.close()
    for (const detach of this.detach) detach()
    this.detach = []
    this.queued = undefined
    await this.tagging
  }

  stop(): void {}

  send(message: DntMessage, options?: DntSendOptions): Promise<SendResult> {
    return this.outbox.send(message, options)
  }

  createEntry(message: DntMessage, options: { level?: string } = {}): Entry {
    const { level } = checkOptions(options, ['level'], 'createEntry() options')
    return entryFor(message, this.policy, level, this.clock())
  }

  private tagPeer(peer: string, waiting: boolean): void {
    const tag = this.tag
    if (tag == null) return
    let peerId: PeerId
    try {
      peerId = peerIdFromString(peer)
    } catch {
      return
    }
    const tags = { [tag.name]: waiting ? { value: tag.value } : undefined }
    this.tagging = this.tagging
      .then(() => this.components.peerStore.merge(peerId, { tags }))
      .then(
        () => this.log.trace('%s tag %s on %s', waiting ? 'set' : 'removed', tag.name, peer),
        (error: unknown) =>
          this.log.error('could not update tag %s on %s: %s', tag.name, peer, describeError(error))
      )
  }

  /** Removes the tag from peers that carry it from an earlier run but have nothing waiting now. */
  private async untagStale(): Promise<void> {
    const tag = this.tag
    if (tag == null) return
    try {
      const tagged = await this.components.peerStore.all({
        filters: [(peer) => peer.tags.has(tag.name)]
      })
      for (const peer of tagged) {
        const id = peer.id.toString()
        if (!(this.queued?.hasPeer(id) ?? false)) this.tagPeer(id, false)
      }
    } catch (error) {
      this.log.error('could not list tagged peers: %s', describeError(error))
    }
  }
}

/**
 * The outbox as a libp2p service, in the js-libp2p style:
 *
 * ```ts
 * const node = await createLibp2p({ ..., services: { dnt: dnt({ policy, store }) } })
 * await node.services.dnt.send({ peer, protocol, payload })
 * ```
 *
 * It delivers over the node's own connections (envelope mode unless `mode`
 * says `'raw'`), flushes a peer's queue when it connects (`peer:connect`,
 * `peer:identify`), tags peers with waiting entries and registers metrics
 * when the node has a metrics implementation. It lends its store the node's
 * private key and datastore (`Store.useNode`): a store made without a key
 * (`levelStore({ location })`, `datastoreStore()`) is encrypted with a key
 * derived from the node's identity, so it reopens only under the same
 * identity. In envelope mode the outbox pipelines up to 64 deliveries per
 * peer unless `perPeerConcurrency` says otherwise. `paused: true` starts the
 * outbox without delivering until `node.services.dnt.outbox.resume()`.
 * Unknown option names are a `TypeError` naming them.
 */
export function dnt(init: DntInit = {}): (components: DntComponents) => Dnt {
  checkDntInit(init)
  return (components) => new DntService(components, init)
}

export type { DntInit } from './dnt-options.js'

import {
  defaultLogger,
  defaultPreset,
  describeError,
  type Logger,
  type Message,
  Outbox,
  type OutboxInit,
  type SendOptions,
  type SendResult
} from '@dntkit/core'
import { type PeerId, type Startable, serviceCapabilities } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import {
  ENVELOPE_PER_PEER_CONCURRENCY,
  QUEUED_PEER_TAG,
  QUEUED_PEER_TAG_VALUE,
  SERVICE_LOG
} from './constants.js'
import { DntMetrics } from './dnt-metrics.js'
import { type DntComponents, hostFromComponents } from './host.js'
import {
  createTransport,
  type Libp2pTransport,
  type Libp2pTransportInit,
  type ReopenableTransport
} from './libp2p-transport.js'
import { QueuedEntries } from './queued-entries.js'

/** Options of the `dnt()` service: the outbox's (minus `transport`), the transport's, and peer tagging. */
export interface DntInit extends Omit<OutboxInit, 'transport'>, Libp2pTransportInit {
  /**
   * Tag peers that have entries waiting, so libp2p keeps re-dialing them and
   * does not prune their connections (default `true`: tag `keep-alive-dntkit`,
   * value 50). The tag is removed when their queue empties.
   */
  tagQueuedPeers?: boolean | { name?: string; value?: number }
}

/** The service as `node.services.dnt` shows it. */
export interface Dnt extends Startable {
  /** Delivers now or queues (see `Outbox.send`). */
  send(message: Message, options?: SendOptions): Promise<SendResult>
  /** The outbox: events, `stats()`, `flush()`, `whenDrained()`, `entries()`, dead letters. */
  readonly outbox: Outbox
  /** The transport the outbox delivers with. */
  readonly transport: Libp2pTransport
}

class DntService implements Dnt {
  readonly [Symbol.toStringTag] = '@dntkit/dnt'
  readonly [serviceCapabilities]: string[] = ['@dntkit/outbox']
  readonly outbox: Outbox
  readonly transport: ReopenableTransport
  private readonly log: Logger
  private readonly tag: { name: string; value: number } | undefined
  private readonly metrics: DntMetrics | undefined
  private readonly levels: string[]
  private queued: QueuedEntries | undefined
  private detach: Array<() => void> = []
  private tagging: Promise<void> = Promise.resolve()
  private started = false

  constructor(
    private readonly components: DntComponents,
    init: DntInit
  ) {
    this.log = (init.logger ?? defaultLogger)(SERVICE_LOG)
    this.transport = createTransport(hostFromComponents(components), init)
    const perPeerConcurrency =
      init.perPeerConcurrency ??
      (init.mode === 'envelope' ? ENVELOPE_PER_PEER_CONCURRENCY : undefined)
    this.outbox = new Outbox({
      ...pickOutboxInit(init),
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
    this.levels = Object.keys((init.policy ?? defaultPreset()).levels)
    if (components.metrics != null) this.metrics = new DntMetrics(components.metrics)
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
    for (const level of this.levels) this.metrics?.level(level, 0)
    const onQueued = (
      event: CustomEvent<{ entry: Message & { id: string; level: string } }>
    ): void => {
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

  send(message: Message, options?: SendOptions): Promise<SendResult> {
    return this.outbox.send(message, options)
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

function pickOutboxInit(init: DntInit): Omit<OutboxInit, 'transport'> {
  const picked: Omit<OutboxInit, 'transport'> = {}
  const keys = [
    'store',
    'policy',
    'clock',
    'random',
    'logger',
    'concurrency',
    'perPeerConcurrency',
    'attemptTimeout',
    'stopTimeout',
    'limits'
  ] as const
  for (const key of keys) {
    if (init[key] !== undefined) (picked as Record<string, unknown>)[key] = init[key]
  }
  return picked
}

/**
 * The outbox as a libp2p service, in the js-libp2p style:
 *
 * ```ts
 * const node = await createLibp2p({ ..., services: { dnt: dnt({ policy, store, mode: 'envelope' }) } })
 * await node.services.dnt.send({ peer, protocol, payload })
 * ```
 *
 * It delivers over the node's own connections, flushes a peer's queue when it
 * connects (`peer:connect`, `peer:identify`), tags peers with waiting entries
 * and registers metrics when the node has a metrics implementation. In
 * envelope mode the outbox pipelines up to 64 deliveries per peer unless
 * `perPeerConcurrency` says otherwise.
 */
export function dnt(init: DntInit = {}): (components: DntComponents) => Dnt {
  return (components) => new DntService(components, init)
}

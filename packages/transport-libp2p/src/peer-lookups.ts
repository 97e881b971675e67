import { type Clock, describeError, type Logger } from '@dntkit/core'
import type { AbortOptions, Connection, PeerId } from '@libp2p/interface'
import { FIND_PEER_TRACKED_PEERS } from './constants.js'
import { asError } from './error-mapping.js'
import { findAddresses, type PeerLookup } from './find-peer.js'
import type { FindPeerSettings } from './find-peer-options.js'
import type { Host } from './host.js'

/** Peer lookups of a transport so far (`Libp2pTransport.peerLookups`). */
export interface PeerLookupStats {
  /** Lookups started. */
  started: number
  /** Ended with addresses. */
  found: number
  /** Ended without any address. */
  notFound: number
  /** Threw, timed out, or found no peer routing. */
  failed: number
  /** Aborted because the transport closed. */
  aborted: number
  /** Addresses found that the peer store did not hold. */
  newAddresses: number
  /** Lookups running now (one per peer at most). */
  inFlight: number
}

/** What the transport remembers of a peer whose dials failed. */
interface PeerState {
  /** Failed dials in a row (a round of concurrent dials counts once). */
  failures: number
  /** Mark of the last dial outcome counted: a dial started before it is of the same round. */
  countedAt: number
  /** Monotonic ms when its last lookup started. */
  lookedUpAt?: number
  /** The lookup running now. */
  lookup?: AbortController
}

/** Dial errors that no address can cure (a gater's denial, no transport): they do not count. */
const NOT_ABOUT_ADDRESSES = new Set(['DialDeniedError', 'TransportUnavailableError'])

/**
 * Finding a peer that moved. Every dial of the transport goes through
 * `observe()`: a dial that fails counts one failure for its peer (dials that
 * ran at the same time, one attempt's round, count once; a dial its caller
 * aborted counts nothing), a dial that connects resets the count. From the
 * `after`-th failure in a row the peer is looked up through the node's peer
 * routing, at most once per `interval` (from the start of the last lookup,
 * on the transport's clock) and one lookup at a time; what it finds goes to
 * the peer store, where the next dial by peer id finds it. A lookup never
 * fails a delivery: it runs beside the attempts, and `close()` aborts it.
 */
export class PeerLookups {
  private readonly peers = new Map<string, PeerState>()
  private readonly listeners = new Set<(lookup: PeerLookup) => void>()
  private readonly counts = { started: 0, found: 0, notFound: 0, failed: 0, aborted: 0 }
  private newAddresses = 0
  private inFlight = 0
  private mark = 0
  /** Set while closed: the reason running lookups were aborted with. */
  private closedBy: Error | undefined
  /** The node has no peer routing: said once, then no more lookups. */
  private unavailable = false

  constructor(
    private readonly host: Host,
    private readonly settings: FindPeerSettings | undefined,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** Called when a lookup found addresses the peer store did not hold. */
    private readonly foundNew: (peer: string) => void
  ) {}

  /** `host` whose dials are counted (itself when lookups are off). */
  observe(host: Host): Host {
    if (this.settings === undefined) return host
    return { ...host, connect: (peer, options) => this.connect(host, peer, options) }
  }

  get stats(): PeerLookupStats {
    return { ...this.counts, newAddresses: this.newAddresses, inFlight: this.inFlight }
  }

  onLookup(listener: (lookup: PeerLookup) => void): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  /** Aborts the lookups running; none starts until `reopen()`. */
  close(): void {
    if (this.closedBy !== undefined) return
    const reason = new Error('the libp2p transport is closed')
    this.closedBy = reason
    for (const state of this.peers.values()) state.lookup?.abort(reason)
  }

  reopen(): void {
    this.closedBy = undefined
  }

  private async connect(host: Host, peerId: PeerId, options: AbortOptions): Promise<Connection> {
    const startedAt = this.mark
    try {
      const connection = await host.connect(peerId, options)
      this.reached(peerId.toString())
      return connection
    } catch (error) {
      if (options.signal?.aborted !== true) this.failed(peerId, startedAt, error)
      throw error
    }
  }

  private reached(peer: string): void {
    const state = this.peers.get(peer)
    if (state === undefined) return
    state.failures = 0
    state.countedAt = ++this.mark
    // nothing left to remember once its last lookup is out of the interval
    if (state.lookup === undefined && !this.recent(state)) this.peers.delete(peer)
  }

  private failed(peerId: PeerId, startedAt: number, error: unknown): void {
    if (NOT_ABOUT_ADDRESSES.has((error as Error)?.name)) return
    const peer = peerId.toString()
    let state = this.peers.get(peer)
    if (state === undefined) {
      state = { failures: 0, countedAt: 0 }
      this.track(peer, state)
    }
    // an outcome was counted since this dial started: the same round
    if (startedAt < state.countedAt) return
    state.countedAt = ++this.mark
    state.failures++
    if (this.due(state)) void this.lookUp(peerId, peer, state)
  }

  private due(state: PeerState): boolean {
    const settings = this.settings
    if (settings === undefined || this.closedBy !== undefined || this.unavailable) return false
    return state.lookup === undefined && state.failures >= settings.after && !this.recent(state)
  }

  /** Whether the peer's last lookup started less than `interval` ago. */
  private recent(state: PeerState): boolean {
    const interval = this.settings?.interval ?? 0
    return state.lookedUpAt !== undefined && this.now() - state.lookedUpAt < interval
  }

  private async lookUp(peerId: PeerId, peer: string, state: PeerState): Promise<void> {
    const timeout = this.settings?.timeout ?? 0
    const controller = new AbortController()
    const { failures } = state
    state.lookup = controller
    state.lookedUpAt = this.now()
    this.counts.started++
    this.inFlight++
    this.log('peer %s: %d dials failed in a row, looking it up (findPeer)', peer, failures)
    const timer = this.clock.setTimeout(
      () => controller.abort(new Error(`the peer routing did not answer within ${timeout} ms`)),
      timeout
    )
    let lookup: PeerLookup
    try {
      const found = await findAddresses(this.host, peerId, controller.signal)
      lookup = {
        peer,
        failures,
        result: found.addresses.length > 0 ? 'found' : 'not-found',
        ...found
      }
    } catch (error) {
      const aborted = this.closedBy !== undefined && controller.signal.reason === this.closedBy
      lookup = {
        peer,
        failures,
        result: aborted ? 'aborted' : 'failed',
        addresses: [],
        newAddresses: [],
        error: asError(controller.signal.aborted ? controller.signal.reason : error)
      }
    } finally {
      this.clock.clearTimeout(timer)
      state.lookup = undefined
      this.inFlight--
    }
    this.report(lookup)
  }

  private report(lookup: PeerLookup): void {
    const { peer, result } = lookup
    if (result === 'not-found') this.counts.notFound++
    else this.counts[result]++
    this.newAddresses += lookup.newAddresses.length
    const next = this.settings?.interval ?? 0
    if (result === 'found') {
      this.log(
        'peer %s found: %d addresses, %d new: %s',
        peer,
        lookup.addresses.length,
        lookup.newAddresses.length,
        lookup.addresses.join(' ')
      )
    } else if (result === 'not-found') {
      this.log.error(
        'peer %s: its lookup found no address; next lookup in %d ms at the earliest',
        peer,
        next
      )
    } else if (result === 'aborted') {
      this.log.trace('peer %s: lookup aborted, the transport closed', peer)
    } else if (lookup.error?.name === 'NoPeerRoutersError') {
      // no router can be added to a running node: one line, and no more lookups
      if (!this.unavailable) {
        this.log.error(
          'the node has no peer routing (libp2p option `peerRouters`: a DHT, a delegated router): peers whose addresses fail are not looked up'
        )
      }
      this.unavailable = true
    } else {
      this.log.error(
        'peer %s: lookup failed; next lookup in %d ms at the earliest: %s',
        peer,
        next,
        describeError(lookup.error)
      )
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(lookup)
      } catch (error) {
        this.log.error('onPeerLookup listener threw for %s: %s', peer, describeError(error))
      }
    }
    if (lookup.newAddresses.length > 0) this.foundNew(peer)
  }

  /** Remembers a peer; at the limit, the oldest one without a lookup running is forgotten first. */
  private track(peer: string, state: PeerState): void {
    if (this.peers.size >= FIND_PEER_TRACKED_PEERS) {
      for (const [oldest, old] of this.peers) {
        if (old.lookup !== undefined) continue
        this.peers.delete(oldest)
        break
      }
    }
    this.peers.set(peer, state)
  }

  private now(): number {
    return this.clock.monotonic?.() ?? this.clock.now()
  }
}

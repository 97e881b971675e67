import {
  type DeliverOptions,
  type DeliveryReceipt,
  defaultLogger,
  type Entry,
  type Logger,
  systemClock,
  type Transport
} from '@dntkit/core'
import { checkOptions } from '@dntkit/core/plugin'
import type { Connection, IdentifyResult, PeerId } from '@libp2p/interface'
import { AddressBook } from './addresses.js'
import {
  DEFAULT_MODE,
  DEFAULT_RAW_SUCCESS,
  ENVELOPE_PROTOCOL,
  MAX_BYTES_IN_FLIGHT,
  MAX_FRAMES_IN_FLIGHT,
  SENDER_MAX_REPLY_BYTES,
  STREAM_LINGER,
  TRANSPORT_LOG,
  WIRE_MAX_REPLY_BYTES,
  WIRE_MAX_UNACKED_BYTES,
  WIRE_MAX_UNACKED_FRAMES
} from './constants.js'
import { EnvelopeSession } from './envelope-session.js'
import { abortedError, mapDeliveryError, mapStreamError } from './error-mapping.js'
import type { PeerLookup } from './find-peer.js'
import { findPeerSettings } from './find-peer-options.js'
import { type Host, hostFromNode, type TransportNode } from './host.js'
import { type PeerLookupStats, PeerLookups } from './peer-lookups.js'
import { type RawSuccess, writeRaw } from './raw-delivery.js'
import { type DeliveryMode, type Libp2pTransportInit, TRANSPORT_OPTIONS } from './transport-init.js'

export type { DeliveryMode, Libp2pTransportInit } from './transport-init.js'

/** A `Transport` over libp2p; `close()` detaches it from the node. */
export interface Libp2pTransport extends Transport {
  onReachable(listener: (peer: string) => void): () => void
  /** Envelope streams open now (one per peer at most). */
  readonly openSessions: number
  /** Stops listening to the node and fails what is in flight; the node itself is left running. */
  close(): Promise<void>
  /** Peer lookups so far (see `findPeer`). */
  readonly peerLookups: PeerLookupStats
  /** Calls `listener` each time a peer lookup ended; returns an unsubscribe function. */
  onPeerLookup(listener: (lookup: PeerLookup) => void): () => void
}

/** The implementation shared by `libp2pTransport()` and `dnt()`. */
export interface ReopenableTransport extends Libp2pTransport {
  reopen(): void
}

class Libp2pDeliveryTransport implements ReopenableTransport {
  private readonly addresses: AddressBook
  private readonly sessions = new Map<string, EnvelopeSession>()
  private readonly listeners = new Set<(peer: string) => void>()
  private readonly log: Logger
  private readonly chooseMode: (entry: Entry) => DeliveryMode
  private readonly rawSuccess: RawSuccess
  private readonly sessionOptions: ConstructorParameters<typeof EnvelopeSession>[2]
  private readonly reachableOn: Array<'peer:connect' | 'peer:identify'>
  private readonly lookups: PeerLookups
  private closed = false

  constructor(
    private readonly host: Host,
    init: Libp2pTransportInit = {}
  ) {
    checkOptions(init, TRANSPORT_OPTIONS, 'libp2pTransport()')
    this.log = (init.logger ?? defaultLogger)(TRANSPORT_LOG)
    this.addresses = new AddressBook(host.peerStore)
    // every dial goes through the lookups, which count the failed ones
    const settings = findPeerSettings(init.findPeer)
    const clock = init.clock ?? systemClock
    this.lookups = new PeerLookups(host, settings, clock, this.log, (peer) => this.reachable(peer))
    this.host = this.lookups.observe(host)
    const mode = init.mode ?? DEFAULT_MODE
    if (typeof mode !== 'function' && mode !== 'raw' && mode !== 'envelope') {
      throw new TypeError(
        `mode must be "raw", "envelope" or a function, got ${JSON.stringify(mode)}`
      )
    }
    this.chooseMode = typeof mode === 'function' ? mode : () => mode
    this.rawSuccess = init.rawSuccess ?? DEFAULT_RAW_SUCCESS
    if (this.rawSuccess !== 'remote-closed' && this.rawSuccess !== 'written') {
      throw new TypeError(
        `rawSuccess must be "remote-closed" or "written", got ${JSON.stringify(this.rawSuccess)}`
      )
    }
    this.sessionOptions = {
      protocol: init.envelopeProtocol ?? ENVELOPE_PROTOCOL,
      maxFramesInFlight: limit(
        init.maxFramesInFlight,
        MAX_FRAMES_IN_FLIGHT,
        WIRE_MAX_UNACKED_FRAMES,
        'maxFramesInFlight'
      ),
      maxBytesInFlight: limit(
        init.maxBytesInFlight,
        MAX_BYTES_IN_FLIGHT,
        WIRE_MAX_UNACKED_BYTES,
        'maxBytesInFlight'
      ),
      maxReplyBytes: limit(
        init.maxReplyBytes,
        SENDER_MAX_REPLY_BYTES,
        WIRE_MAX_REPLY_BYTES,
        'maxReplyBytes',
        0
      ),
      linger: limit(init.streamLinger, STREAM_LINGER, Number.MAX_SAFE_INTEGER, 'streamLinger', 0),
      log: this.log
    }
    this.reachableOn = init.reachableOn ?? ['peer:connect', 'peer:identify']
    for (const name of this.reachableOn) {
      if (name !== 'peer:connect' && name !== 'peer:identify') {
        throw new TypeError(
          `reachableOn accepts "peer:connect" and "peer:identify", got ${JSON.stringify(name)}`
        )
      }
    }
    this.attach()
  }

  /** Listens to the node's connection events again after `close()` (the service restarts it). */
  reopen(): void {
    if (!this.closed) return
    this.closed = false
    this.lookups.reopen()
    this.attach()
  }

  private attach(): void {
    const { events } = this.host
    if (this.reachableOn.includes('peer:connect'))
      events.addEventListener('peer:connect', this.onConnect)
    if (this.reachableOn.includes('peer:identify'))
      events.addEventListener('peer:identify', this.onIdentify)
  }

  get openSessions(): number {
    return this.sessions.size
  }

  get peerLookups(): PeerLookupStats {
    return this.lookups.stats
  }

  onPeerLookup(listener: (lookup: PeerLookup) => void): () => void {
    return this.lookups.onLookup(listener)
  }

  /** Resolves with the receiver's reply (`{ reply }`) when it gave one, `{}` otherwise. */
  async deliver(entry: Entry, options: DeliverOptions): Promise<DeliveryReceipt> {
    const { signal } = options
    const where = { peer: entry.peer, protocol: entry.protocol, id: entry.id, addrs: entry.addrs }
    if (this.closed) throw mapDeliveryError(new Error('the libp2p transport is closed'), where)
    if (signal.aborted) throw abortedError(signal, where)
    const peerId = this.addresses.peerId(entry)
    try {
      await this.addresses.merge(peerId, entry)
    } catch (error) {
      throw mapDeliveryError(error, where)
    }
    if (this.chooseMode(entry) === 'envelope')
      return this.session(peerId, entry.peer).send(entry, signal)
    let connection: Connection
    try {
      connection = await this.host.connect(peerId, { signal })
    } catch (error) {
      // no connection could be made: the peer is unreachable; the next attempt merges its addresses again
      this.addresses.forget(entry.peer)
      throw signal.aborted ? abortedError(signal, where) : mapDeliveryError(error, where)
    }
    try {
      const stream = await connection.newStream(entry.protocol, { signal })
      // the connection is passed on: a reset connection can end the stream as if closed cleanly
      const reply = await writeRaw(
        stream,
        entry.payload,
        this.rawSuccess,
        signal,
        connection,
        this.sessionOptions.maxReplyBytes
      )
      return reply === undefined ? {} : { reply }
    } catch (error) {
      // the peer was reached: this message failed (no handler yet, or the stream broke)
      throw signal.aborted ? abortedError(signal, where) : mapStreamError(error, where)
    }
  }

  onReachable(listener: (peer: string) => void): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.host.events.removeEventListener('peer:connect', this.onConnect)
    this.host.events.removeEventListener('peer:identify', this.onIdentify)
    this.lookups.close()
    const sessions = [...this.sessions.values()]
    await Promise.all(sessions.map((session) => session.close('the libp2p transport is closed')))
  }

  private session(peerId: PeerId, peer: string): EnvelopeSession {
    const existing = this.sessions.get(peer)
    if (existing != null && !existing.closed) return existing
    const session = new EnvelopeSession(peerId, this.host, this.sessionOptions, (closed) => {
      if (this.sessions.get(peer) === closed) this.sessions.delete(peer)
    })
    // a session that failed while opening has already removed itself
    if (!session.closed) this.sessions.set(peer, session)
    return session
  }

  private readonly onConnect = (event: CustomEvent<PeerId>): void => {
    this.reachable(event.detail.toString())
  }

  private readonly onIdentify = (event: CustomEvent<IdentifyResult>): void => {
    this.reachable(event.detail.peerId.toString())
  }

  private reachable(peer: string): void {
    this.log.trace('peer %s reachable', peer)
    for (const listener of [...this.listeners]) {
      try {
        listener(peer)
      } catch (error) {
        this.log.error('onReachable listener threw for %s: %s', peer, (error as Error)?.message)
      }
    }
  }
}

function limit(
  value: number | undefined,
  fallback: number,
  max: number,
  name: string,
  min = 1
): number {
  if (value == null) return fallback
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${name} must be an integer from ${min} to ${max}, got ${value}`)
  }
  return value
}

/** The shared implementation over any `Host` (used by `dnt()`). */
export function createTransport(host: Host, init?: Libp2pTransportInit): ReopenableTransport {
  return new Libp2pDeliveryTransport(host, init)
}

/**
 * A `Transport` over a running js-libp2p v3 node: `raw` mode writes each
 * payload on a stream of its own protocol, `envelope` mode frames messages on
 * `/dntkit/envelope/1.0.0` and waits for the receiver's ack. Peers are
 * reported reachable on `peer:connect` and `peer:identify`.
 */
export function libp2pTransport(node: TransportNode, init?: Libp2pTransportInit): Libp2pTransport {
  return new Libp2pDeliveryTransport(hostFromNode(node), init)
}

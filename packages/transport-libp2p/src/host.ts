import type {
  AbortOptions,
  ComponentLogger,
  Connection,
  Libp2p,
  Libp2pEvents,
  Metrics,
  PeerId,
  PeerInfo,
  PeerRouting,
  PeerStore,
  PrivateKey,
  Stream,
  StreamHandler,
  StreamHandlerOptions,
  TypedEventTarget
} from '@libp2p/interface'

/**
 * The parts of a running libp2p node that `libp2pTransport()` uses
 * (`peerRouting`, optional, to look up a peer that moved).
 */
export type TransportNode = Pick<
  Libp2p,
  'dial' | 'dialProtocol' | 'peerStore' | 'addEventListener' | 'removeEventListener'
> &
  Partial<Pick<Libp2p, 'peerRouting'>>

/** The parts of a running libp2p node that `handleEnvelopes()` uses. */
export type ReceiverNode = Pick<Libp2p, 'handle' | 'unhandle'>

/**
 * What a libp2p node lends the stores of its services: its identity key
 * (the default source of a store's key) and its datastore (for a store that
 * keeps to it, such as `datastoreStore()` of @dntkit/store-datastore).
 */
export interface NodeComponents {
  /** The node's private key (libp2p's `components.privateKey`). */
  privateKey?: PrivateKey
  /** The node's datastore (libp2p's `components.datastore`). */
  datastore?: unknown
}

/** The libp2p components the `dnt()` service needs (injected by `createLibp2p`). */
export interface DntComponents extends NodeComponents {
  peerStore: PeerStore
  events: TypedEventTarget<Libp2pEvents>
  connectionManager: {
    /** Opens a stream of `protocol` to `peer`, dialing it if needed. */
    openStream(peer: PeerId, protocol: string | string[], options?: AbortOptions): Promise<Stream>
    /** Dials `peer` (or returns an open connection to it). */
    openConnection(peer: PeerId, options?: AbortOptions): Promise<Connection>
  }
  logger?: ComponentLogger
  metrics?: Metrics
  /** The node's peer routing (its `peerRouters`: a DHT, a delegated router), to look up a peer that moved. */
  peerRouting?: Pick<PeerRouting, 'findPeer'>
}

/** The libp2p components the `dntReceiver()` service needs. */
export interface DntReceiverComponents extends NodeComponents {
  registrar: {
    /** Registers `handler` for inbound streams of `protocol`. */
    handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
    /** Removes the handler of `protocol`. */
    unhandle(protocol: string, options?: AbortOptions): Promise<void>
  }
}

/**
 * What the delivery code needs from libp2p, whether it runs over a node
 * (`libp2pTransport`) or over injected components (`dnt()`): one
 * implementation for both.
 */
export interface Host {
  openStream(peer: PeerId, protocol: string, options: AbortOptions): Promise<Stream>
  /** A connection to the peer (an existing one when there is one). */
  connect(peer: PeerId, options: AbortOptions): Promise<Connection>
  peerStore: PeerStore
  events: Pick<TypedEventTarget<Libp2pEvents>, 'addEventListener' | 'removeEventListener'>
  /** Asks the node's peer routing for the peer's addresses (throws `NoPeerRoutersError` without one). */
  findPeer(peer: PeerId, options: AbortOptions & { useCache?: boolean }): Promise<PeerInfo>
}

/** A node without peer routing answers a lookup as libp2p does when it has no routers. */
function noPeerRouting(): Promise<PeerInfo> {
  const error = new Error('the node has no peer routing')
  error.name = 'NoPeerRoutersError'
  return Promise.reject(error)
}

/** `findPeer` of a routing that may be missing (a libp2p components proxy throws for a missing one). */
function findWith(routing: () => Pick<PeerRouting, 'findPeer'> | undefined): Host['findPeer'] {
  return (peer, options) => {
    let found: Pick<PeerRouting, 'findPeer'> | undefined
    try {
      found = routing()
    } catch {
      found = undefined
    }
    return found == null ? noPeerRouting() : found.findPeer(peer, options)
  }
}

export function hostFromNode(node: TransportNode): Host {
  return {
    openStream: (peer, protocol, options) => node.dialProtocol(peer, protocol, options),
    connect: (peer, options) => node.dial(peer, options),
    peerStore: node.peerStore,
    events: node,
    findPeer: findWith(() => node.peerRouting)
  }
}

export function hostFromComponents(components: DntComponents): Host {
  return {
    openStream: (peer, protocol, options) =>
      components.connectionManager.openStream(peer, protocol, options),
    connect: (peer, options) => components.connectionManager.openConnection(peer, options),
    peerStore: components.peerStore,
    events: components.events,
    findPeer: findWith(() => components.peerRouting)
  }
}

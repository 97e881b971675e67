import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'

/**
 * A libp2p node as the CLI makes it (TCP, Noise, Yamux, Identify), on
 * 127.0.0.1 only. `announcePort`: the only address it tells peers about (a
 * proxy in front of it), so that they cannot reach it around the proxy.
 * Every peer of a chaos run connects from 127.0.0.1: libp2p's limit of 5
 * inbound connections a second per host would stand for 10 hosts, so it is
 * raised. `start: false`: not listening yet (register handlers first).
 */
export async function createChaosNode(
  privateKey: PrivateKey,
  port?: number,
  announcePort?: number,
  start = true
): Promise<Libp2p> {
  return createLibp2p({
    privateKey,
    start,
    addresses: {
      listen: port === undefined ? [] : [`/ip4/127.0.0.1/tcp/${port}`],
      ...(announcePort === undefined ? {} : { announce: [`/ip4/127.0.0.1/tcp/${announcePort}`] })
    },
    connectionManager: { inboundConnectionThreshold: 1_000, maxIncomingPendingConnections: 100 },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
}

/** The multiaddr of a peer listening on `port` of 127.0.0.1. */
export function addressOf(port: number, peerId?: string): string {
  return `/ip4/127.0.0.1/tcp/${port}${peerId === undefined ? '' : `/p2p/${peerId}`}`
}

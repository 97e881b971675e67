import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p } from 'libp2p'

/**
 * A browser libp2p node that only dials: WebSockets, Noise, Yamux.
 *
 * `gater: 'open'` lets it dial loopback and private addresses (the receiver
 * of this example runs on this machine), which libp2p's default connection
 * gater refuses in browsers. A page that talks to public peers only keeps the
 * default (`gater: 'default'`); a denied dial is then reported as
 * `UndeliverableError` (reason `dial-denied`), never retried in vain.
 */
export function createBrowserNode(
  privateKey: PrivateKey,
  gater: 'open' | 'default'
): Promise<Libp2p> {
  return createLibp2p({
    privateKey,
    addresses: { listen: [] },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(gater === 'open' ? { connectionGater: { denyDialMultiaddr: () => false } } : {})
  })
}

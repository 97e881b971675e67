import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { withContext } from './errors.js'

/** Options of `createNode()`. */
export interface NodeInit {
  privateKey: PrivateKey
  /** Multiaddrs to listen on (none: dial only). */
  listen?: string[]
  /**
   * Start the node at once (default). A receiver passes `false`, registers its
   * handlers, then calls `startNode()`: a peer that connects at once never
   * finds the protocol missing (it would fail that attempt and retry later).
   */
  start?: boolean
}

/**
 * A libp2p node for the CLI: TCP and WebSockets (`/ws` addresses, for
 * browser nodes), Noise, Yamux and Identify, the node's own key, listening
 * only where told. libp2p is imported here, on demand, after
 * `bin.ts` installed the `Promise.withResolvers` polyfill Node 20 lacks.
 */
export async function createNode(init: NodeInit): Promise<Libp2p> {
  const [{ createLibp2p }, { tcp }, { webSockets }, { noise }, { yamux }, { identify }] =
    await Promise.all([
      import('libp2p'),
      import('@libp2p/tcp'),
      import('@libp2p/websockets'),
      import('@chainsafe/libp2p-noise'),
      import('@chainsafe/libp2p-yamux'),
      import('@libp2p/identify')
    ])
  try {
    return await createLibp2p({
      start: init.start ?? true,
      privateKey: init.privateKey,
      addresses: { listen: init.listen ?? [] },
      transports: [tcp(), webSockets()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify() }
    })
  } catch (error) {
    throw withContext(failure(init), error)
  }
}

function failure(init: NodeInit): string {
  return init.listen?.length ? `cannot listen on ${init.listen.join(', ')}` : 'cannot start libp2p'
}

/** Starts a node made with `start: false`. */
export async function startNode(node: Libp2p, init: NodeInit): Promise<void> {
  try {
    await node.start()
  } catch (error) {
    throw withContext(failure(init), error)
  }
}

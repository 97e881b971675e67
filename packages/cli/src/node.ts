import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { withContext } from './errors.js'

/** Options of `createNode()`. */
export interface NodeInit {
  privateKey: PrivateKey
  /** Multiaddrs to listen on (none: dial only). */
  listen?: string[]
}

/**
 * A libp2p node for the CLI: TCP, Noise, Yamux and Identify, the node's own
 * key, listening only where told. libp2p is imported here, on demand, after
 * `bin.ts` installed the `Promise.withResolvers` polyfill Node 20 lacks.
 */
export async function createNode(init: NodeInit): Promise<Libp2p> {
  const [{ createLibp2p }, { tcp }, { noise }, { yamux }, { identify }] = await Promise.all([
    import('libp2p'),
    import('@libp2p/tcp'),
    import('@chainsafe/libp2p-noise'),
    import('@chainsafe/libp2p-yamux'),
    import('@libp2p/identify')
  ])
  try {
    return await createLibp2p({
      privateKey: init.privateKey,
      addresses: { listen: init.listen ?? [] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify() }
    })
  } catch (error) {
    const where = init.listen?.length
      ? `cannot listen on ${init.listen.join(', ')}`
      : 'cannot start libp2p'
    throw withContext(where, error)
  }
}

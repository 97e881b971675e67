import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { defaultPreset } from '@dntkit/core'
import { fileStore } from '@dntkit/store-file'
import { dnt, dntReceiver, type EnvelopeHandler } from '@dntkit/transport-libp2p'
import { identify } from '@libp2p/identify'
import type { PrivateKey } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'

/** The application protocol: orders sent to a fulfilment peer. */
export const ORDERS = '/shop/orders/1.0.0'

/** What every node of the application has: TCP on 127.0.0.1, Noise, Yamux, Identify. */
function base(privateKey: PrivateKey, port: number) {
  return {
    privateKey,
    addresses: { listen: [`/ip4/127.0.0.1/tcp/${port}`] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  }
}

/**
 * The application's own node, with dntkit as one more service:
 * `node.services.dnt.send()` delivers now or keeps the message until the
 * peer is reachable (a connection from it flushes its queue at once).
 */
export async function createSenderNode(privateKey: PrivateKey, directory: string) {
  return createLibp2p({
    ...base(privateKey, 0),
    services: {
      identify: identify(),
      dnt: dnt({
        // envelope mode (the default): framed, acknowledged after the receiver's handler
        // resolved, deduplicated by id there
        // orders are critical: encrypted on disk with a key derived from the node's
        // private key (the service gives it to the store), retried until delivered
        store: fileStore({ directory: join(directory, 'outbox') }),
        policy: defaultPreset({ protocols: { [ORDERS]: 'critical' } })
      })
    }
  })
}

/**
 * The peer that processes orders. `dntReceiver` serves envelope mode: the
 * handler runs once per message id (the dedupe window, kept in a store so it
 * survives restarts), and its success is what acknowledges the message.
 */
export async function createReceiverNode(
  privateKey: PrivateKey,
  port: number,
  directory: string,
  handler: EnvelopeHandler
) {
  return createLibp2p({
    ...base(privateKey, port),
    services: {
      identify: identify(),
      dntReceiver: dntReceiver({
        handlers: { [ORDERS]: handler },
        dedupe: {
          maxEntries: 100_000,
          maxAge: 24 * 60 * 60 * 1000,
          // encrypted with the node's key, like the sender's outbox
          store: fileStore({ directory: join(directory, 'dedupe') })
        }
      })
    }
  })
}

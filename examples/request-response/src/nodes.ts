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

/** The application protocol: a client asks the shop to create an order; the answer is its number. */
export const CREATE_ORDER = '/shop/create-order/1.0.0'

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
 * The client: `node.services.dnt.send()` delivers a request now and returns
 * the shop's answer, or keeps the request (encrypted, on disk) until the shop
 * is reachable; an answer that comes later is kept there too, until taken.
 */
export async function createClientNode(privateKey: PrivateKey, directory: string) {
  return createLibp2p({
    ...base(privateKey, 0),
    services: {
      identify: identify(),
      dnt: dnt({
        // envelope mode (the default): the answer travels back in the acknowledgement
        store: fileStore({ directory: join(directory, 'client-outbox') }),
        policy: defaultPreset({ protocols: { [CREATE_ORDER]: 'critical' } })
      })
    }
  })
}

/**
 * The shop: `dntReceiver` runs `createOrder` once per request id and sends
 * what it returns back as the answer. The dedupe window keeps each answer
 * with its id, in a store: a request sent again (after a lost
 * acknowledgement, or by a restarted client) gets the same answer, even
 * after the shop restarted, and the order is not created twice.
 */
export async function createShopNode(
  privateKey: PrivateKey,
  port: number,
  directory: string,
  createOrder: EnvelopeHandler
) {
  return createLibp2p({
    ...base(privateKey, port),
    services: {
      identify: identify(),
      dntReceiver: dntReceiver({
        handlers: { [CREATE_ORDER]: createOrder },
        maxReplyBytes: 4 * 1024, // an answer is a small JSON document
        dedupe: { store: fileStore({ directory: join(directory, 'shop-dedupe') }) }
      })
    }
  })
}

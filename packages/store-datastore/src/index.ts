/**
 * @packageDocumentation
 *
 * A dntkit `Store` over libp2p's `interface-datastore`, so a node keeps its
 * outbox in the datastore it already has (datastore-level in Node,
 * datastore-idb in browsers): one key per entry under `/dntkit/outbox`, in
 * first-put order, each value sealed with AES-256-GCM under a key derived
 * from the node's private key and bound to its datastore key, every batch
 * atomic. Inside the `dnt()` service it needs no option: the service gives
 * it the node's datastore and private key.
 *
 * @example
 *
 * ```ts
 * import { noise } from '@chainsafe/libp2p-noise'
 * import { yamux } from '@chainsafe/libp2p-yamux'
 * import { dnt } from '@dntkit/transport-libp2p'
 * import { datastoreStore } from '@dntkit/store-datastore'
 * import { tcp } from '@libp2p/tcp'
 * import { LevelDatastore } from 'datastore-level'
 * import { createLibp2p } from 'libp2p'
 *
 * const datastore = new LevelDatastore('./data/node')
 * await datastore.open()
 * const node = await createLibp2p({
 *   privateKey, // the node's fixed identity: the store key follows it
 *   datastore,
 *   transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()],
 *   services: { dnt: dnt({ store: datastoreStore() }) }
 * })
 * ```
 */
export { type DatastoreStore, datastoreStore } from './datastore-store.js'
export type { DatastoreStoreInit } from './init.js'

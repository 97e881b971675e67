/**
 * @packageDocumentation
 *
 * A dntkit `Store` on abstract-level: one key per entry in first-put order,
 * values sealed with AES-256-GCM under a key derived from the node's private
 * key and bound to their database key, every batch atomic and durable. It
 * opens its own database at `location` (IndexedDB through browser-level in
 * browsers and workers, the `browser` export condition; LevelDB through
 * classic-level in Node, an optional peer dependency), or keeps to a sublevel
 * of an application's database passed as `db`. In browsers a Web Lock keeps
 * one writer per store across tabs and workers.
 *
 * @example
 *
 * ```ts
 * import { Outbox, defaultPreset } from '@dntkit/core'
 * import { levelStore } from '@dntkit/store-level'
 *
 * // privateKey: the node's Ed25519 key (the one given to createLibp2p)
 * const store = levelStore({ location: './data/outbox', privateKey })
 * const outbox = new Outbox({ transport, store, policy: defaultPreset() })
 * await outbox.start()
 * await outbox.send({ peer, protocol: '/app/create/1.0.0', payload })
 * await outbox.stop()
 * ```
 */

export type { OutboxOperation } from './batch-operations.js'
export type { ApplicationDatabase, LevelStoreInit } from './init.js'
export type { LevelStore, QuarantinedValue } from './level-store-api.js'
export { levelStore } from './node-platform.js'
export type { LockMode } from './platform.js'
export { type RepairLevelStoreInit, repairLevelStore } from './repair.js'

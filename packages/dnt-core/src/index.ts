/**
 * @packageDocumentation
 *
 * The core of dntkit (Disconnection Network Tolerance for libp2p nodes):
 * when a request to a peer fails because the peer is unreachable, the
 * `Outbox` keeps it and delivers it later, according to a `Policy` that maps
 * protocols to levels (`critical`: persisted, retried until delivered;
 * `moderate`: a few retries in memory; `none`: never kept). Persistence and
 * delivery are pluggable: any `Store` and any `Transport`.
 *
 * This entry holds what an application calls or names; the building blocks
 * only store and transport authors use are in `@dntkit/core/plugin`, the
 * conformance suites and test helpers in `@dntkit/core/testing`.
 *
 * @example
 *
 * ```ts
 * import { Outbox, defaultPreset, memoryStore } from '@dntkit/core'
 *
 * const outbox = new Outbox({ transport: myTransport, store: memoryStore(), policy: defaultPreset() })
 * await outbox.start()
 * const result = await outbox.send({ peer: peerId, protocol: '/app/create/1.0.0', payload })
 * // result.status is 'delivered' or 'queued' (durable when the level persists)
 * await outbox.stop()
 * ```
 */
export type {
  Backoff,
  BackoffFunction,
  ExponentialBackoff,
  FixedBackoff
} from './backoff.js'
export { type Clock, systemClock, type TimerHandle, type TimerOptions } from './clock.js'
export { createEntry } from './create-entry.js'
export type { PrivateKeyInput } from './crypto.js'
export {
  DecryptionError,
  DeliveryFailedError,
  DeliveryRejectedError,
  DntError,
  DuplicateIdError,
  describeError,
  InvalidKeyError,
  MessageTooLargeError,
  OutboxFullError,
  OutboxStoppedError,
  PeerUnreachableError,
  StoreClosedError,
  StoreCorruptError,
  type StoreDamage,
  StoreKeyMismatchError,
  StoreLockedError,
  StoreReadOnlyError,
  StoreUnavailableError,
  UndeliverableError
} from './errors.js'
export type { OutboxEventMap, OutboxEventName, OutboxEvents } from './events.js'
export { createId, idTime } from './id.js'
export { ed25519FromSeed, encodePrivateKey, parsePrivateKey } from './keys.js'
export type { LatencySummary } from './latency.js'
export { defaultLogger, type Logger, type LoggerFactory } from './logger.js'
export { type MemoryStoreInit, memoryStore } from './memory-store.js'
export {
  Outbox,
  type PendingReply,
  type PurgeSelector,
  type SendOptions,
  type SendResult
} from './outbox.js'
export type { OutboxInit, OutboxLimits } from './outbox-options.js'
export type { SendStatus } from './pending-entry.js'
export {
  defaultPreset,
  definePolicy,
  type Level,
  levelOf,
  NONE,
  ocDiscoveryPreset,
  type Policy,
  type PolicyInit,
  validatePolicy
} from './policy.js'
export type { RepairedFile, RepairLoss, StoreRepairReport } from './repair-report.js'
export type { OutboxStats, Tally } from './stats.js'
export type {
  DeadLetter,
  Delivered,
  DeliverOptions,
  DeliveryReceipt,
  Entry,
  Message,
  Meta,
  MetaValue,
  MultiaddrLike,
  OutgoingMessage,
  PeerIdLike,
  Store,
  StoreBatch,
  StoreNode,
  Transport
} from './types.js'

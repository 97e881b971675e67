/**
 * @packageDocumentation
 *
 * dntkit over js-libp2p v3: a `Transport` that delivers outbox entries on
 * libp2p streams (`raw`: the payload on a stream of its own protocol, for any
 * existing handler; `envelope`: framed, pipelined and acknowledged on
 * `/dntkit/envelope/1.0.0`, deduplicated by the receiver), the `dnt()`
 * service that puts an `Outbox` inside a libp2p node, and the receiving side
 * (`dntReceiver()` / `handleMessages()`) for both modes: envelope `handlers`
 * and `rawHandlers`, under one set of limits. A handler may answer with
 * bytes: the reply comes back to `send()` (or the outbox's `delivered`
 * event), and a duplicate gets the same reply from the receiver's dedupe
 * window without running the handler again; `MessageRefusedError` refuses a
 * message for good. It decides from each frame's
 * header (or before a raw stream's first byte) whether the peer noise
 * authenticated may deliver (`allow`, `authorize`) and whether it stays within
 * the abuse limits (sizes, streams per peer, frames in flight, a per-peer rate
 * limit, an idle timeout), and it holds every byte it buffers to one memory
 * budget with a share per peer. Its dedupe window keeps a quota per peer, so
 * a flood of new ids from one peer evicts only that peer's own.
 *
 * @example
 *
 * ```ts
 * import { noise } from '@chainsafe/libp2p-noise'
 * import { yamux } from '@chainsafe/libp2p-yamux'
 * import { tcp } from '@libp2p/tcp'
 * import { createLibp2p } from 'libp2p'
 * import { dnt, dntReceiver } from '@dntkit/transport-libp2p'
 *
 * const node = await createLibp2p({
 *   transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()],
 *   services: {
 *     dnt: dnt(), // envelope mode: acked and deduplicated by the peer's dntReceiver
 *     dntReceiver: dntReceiver({
 *       handlers: { '/app/create/1.0.0': async (message, from) => new TextEncoder().encode('created') },
 *       allow: ['12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK']
 *     })
 *   }
 * })
 * const peer = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
 * const payload = new TextEncoder().encode('hello')
 * const result = await node.services.dnt.send({ peer, protocol: '/app/create/1.0.0', payload })
 * // result.status is 'delivered' (with result.reply), or 'queued' until the peer is back
 * ```
 */
export {
  type AuthorizationInit,
  type AuthorizedStreamHandlerInit,
  type AuthorizeHook,
  authorizedStreamHandler
} from './authorization.js'
export { ENVELOPE_PROTOCOL } from './constants.js'
export type { DedupeInit } from './dedupe-window.js'
export type { DntMessage, DntSendOptions } from './dnt-message.js'
export { type Dnt, type DntInit, dnt } from './dnt-service.js'
export type { AckStatus } from './envelope-codec.js'
export type { PeerLookup, PeerLookupResult } from './find-peer.js'
export type { FindPeerInit } from './find-peer-options.js'
export { MessageRefusedError, TryLaterError } from './handler-errors.js'
export type {
  DntComponents,
  DntReceiverComponents,
  NodeComponents,
  ReceiverNode,
  TransportNode
} from './host.js'
export {
  type DeliveryMode,
  type Libp2pTransport,
  type Libp2pTransportInit,
  libp2pTransport
} from './libp2p-transport.js'
export type { PeerLookupStats } from './peer-lookups.js'
export type { RateLimit } from './rate-limiter.js'
export type { RawSuccess } from './raw-delivery.js'
export type { DntReceiverInit } from './receiver-options.js'
export type { HandlerTable } from './receiver-registration.js'
export {
  type DntReceiver,
  dntReceiver,
  type EnvelopeHandle,
  handleEnvelopes,
  handleMessages,
  type ReceiverHandle
} from './receiver-service.js'
export type { RawStats, ReceiverStats, StreamErrorReason } from './receiver-stats.js'
export type {
  EnvelopeHandler,
  EnvelopeMessage,
  HandlerResult,
  RawHandler,
  RawMessage,
  ReceivedDetail,
  ReceiveMode,
  ReceiverEvents,
  RejectedDetail,
  StreamErrorDetail
} from './receiver-types.js'

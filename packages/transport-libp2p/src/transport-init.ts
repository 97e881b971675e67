import type { Clock, Entry, LoggerFactory } from '@dntkit/core'
import type { FindPeerInit } from './find-peer-options.js'
import type { RawSuccess } from './raw-delivery.js'

/** `raw`: the payload on a stream of the message's own protocol; `envelope`: framed, acked, deduplicated. */
export type DeliveryMode = 'raw' | 'envelope'

/** Options of `libp2pTransport()` (and of the `dnt()` service). Every field is optional. */
export interface Libp2pTransportInit {
  /** Delivery mode, or a function choosing it per entry (default `raw`). */
  mode?: DeliveryMode | ((entry: Entry) => DeliveryMode)
  /** Raw mode's point of success (default `remote-closed`). */
  rawSuccess?: RawSuccess
  /** Protocol id of envelope mode (default `/dntkit/envelope/1.0.0`). */
  envelopeProtocol?: string
  /** Unacknowledged frames per envelope stream (default 256, at most 1024). */
  maxFramesInFlight?: number
  /** Unacknowledged bytes per envelope stream (default 4 MiB, at most 8 MiB; one frame always fits). */
  maxBytesInFlight?: number
  /**
   * Largest reply accepted, in bytes (default 1 MiB, at most 8 MiB): an
   * envelope ack carrying a larger one breaks the protocol (the stream is
   * reset, its messages in flight fail and are retried); a raw reply
   * (`remote-closed`) that passes it fails its message. Keep it at least the
   * receivers' `maxReplyBytes` (default 64 KiB).
   */
  maxReplyBytes?: number
  /** ms an idle envelope stream stays open for the next message (default 2,000). */
  streamLinger?: number
  /** libp2p events that report a peer reachable (default both). */
  reachableOn?: Array<'peer:connect' | 'peer:identify'>
  /** Logger factory (default: `defaultLogger` of @dntkit/core, namespace `dntkit:transport-libp2p`). */
  logger?: LoggerFactory
  /**
   * Look a peer up through the node's peer routing (`findPeer`: a DHT, a
   * delegated router) when its known addresses failed `after` dials in a row,
   * at most once per `interval` per peer; what it finds goes to the peer
   * store and the next dial uses it (default `true`: after 5, every 5
   * minutes at most, 30 s timeout; `false`: never).
   */
  findPeer?: boolean | FindPeerInit
  /** Where peer lookups take time from (default the system clock; `dnt()` gives it the outbox's `clock`). */
  clock?: Clock
}

/**
 * Every option of `libp2pTransport()`, kept complete by the compiler; any
 * other name is a `TypeError`.
 */
const OPTION_NAMES: Record<keyof Libp2pTransportInit, true> = {
  mode: true,
  rawSuccess: true,
  envelopeProtocol: true,
  maxFramesInFlight: true,
  maxBytesInFlight: true,
  maxReplyBytes: true,
  streamLinger: true,
  reachableOn: true,
  logger: true,
  findPeer: true,
  clock: true
}

/** The names `libp2pTransport()` takes. */
export const TRANSPORT_OPTIONS = Object.keys(OPTION_NAMES) as Array<keyof Libp2pTransportInit>

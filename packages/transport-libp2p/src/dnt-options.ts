import type { Entry, OutboxInit } from '@dntkit/core'
import { SERVICE_DEFAULT_MODE } from './constants.js'
import { findPeerSettings } from './find-peer-options.js'
import type { DeliveryMode, Libp2pTransportInit } from './libp2p-transport.js'

/** Options of the `dnt()` service: the outbox's (minus `transport`), the transport's, and peer tagging. */
export interface DntInit extends Omit<OutboxInit, 'transport'>, Omit<Libp2pTransportInit, 'mode'> {
  /**
   * Delivery mode, or a function choosing it per entry. Default `'envelope'`:
   * framed, acknowledged after the receiving `dntReceiver()` handler resolved
   * and deduplicated by id there (exactly-once to the application with a
   * dedupe store). `'raw'` writes the payload on a stream of the message's own
   * protocol, for any existing `node.handle()` handler and for peers running
   * the Go original (at-least-once).
   */
  mode?: DeliveryMode | ((entry: Entry) => DeliveryMode)
  /**
   * Tag peers that have entries waiting, so libp2p keeps re-dialing them and
   * does not prune their connections (default `true`: tag `keep-alive-dntkit`,
   * value 50). The tag is removed when their queue empties.
   */
  tagQueuedPeers?: boolean | { name?: string; value?: number }
}

/**
 * Every option of `dnt()` and who takes it. The type lists every key of
 * `DntInit`: an option added to the outbox or the transport fails to compile
 * here until it is listed.
 */
const OPTIONS: Record<keyof DntInit, 'outbox' | 'transport' | 'both' | 'service'> = {
  store: 'outbox',
  policy: 'outbox',
  clock: 'both',
  random: 'outbox',
  concurrency: 'outbox',
  perPeerConcurrency: 'outbox',
  attemptTimeout: 'outbox',
  stopTimeout: 'outbox',
  limits: 'outbox',
  paused: 'outbox',
  logger: 'both',
  mode: 'transport',
  rawSuccess: 'transport',
  envelopeProtocol: 'transport',
  maxFramesInFlight: 'transport',
  maxBytesInFlight: 'transport',
  maxReplyBytes: 'transport',
  streamLinger: 'transport',
  reachableOn: 'transport',
  findPeer: 'transport',
  tagQueuedPeers: 'service'
}

/** Throws `TypeError` naming the first option of `init` that `dnt()` does not know or cannot take. */
export function checkDntInit(init: DntInit): void {
  if (init == null || typeof init !== 'object')
    throw new TypeError('dnt() options must be an object')
  for (const name of Object.keys(init)) {
    if (!Object.hasOwn(OPTIONS, name)) throw new TypeError(`dnt(): unknown option "${name}"`)
  }
  findPeerSettings(init.findPeer)
  const tag = init.tagQueuedPeers
  if (tag === undefined || typeof tag === 'boolean') return
  if (tag == null || typeof tag !== 'object') {
    throw new TypeError('dnt() option `tagQueuedPeers` must be a boolean or { name?, value? }')
  }
  for (const name of Object.keys(tag)) {
    if (name !== 'name' && name !== 'value') {
      throw new TypeError(`dnt() option \`tagQueuedPeers\`: unknown option "${name}"`)
    }
  }
  if (tag.name !== undefined && (typeof tag.name !== 'string' || tag.name.length === 0)) {
    throw new TypeError('dnt() option `tagQueuedPeers.name` must be a non-empty string')
  }
  if (tag.value !== undefined && !Number.isFinite(tag.value)) {
    throw new TypeError('dnt() option `tagQueuedPeers.value` must be a number')
  }
}

/** The outbox's options among `init`. */
export function outboxInit(init: DntInit): Omit<OutboxInit, 'transport'> {
  const picked: Record<string, unknown> = {}
  for (const [name, taker] of Object.entries(OPTIONS)) {
    const value = (init as Record<string, unknown>)[name]
    if ((taker === 'outbox' || taker === 'both') && value !== undefined) picked[name] = value
  }
  return picked as Omit<OutboxInit, 'transport'>
}

/** The transport's options among `init`, with the service's default mode. */
export function transportInit(init: DntInit): Libp2pTransportInit {
  const picked: Record<string, unknown> = { mode: SERVICE_DEFAULT_MODE }
  for (const [name, taker] of Object.entries(OPTIONS)) {
    const value = (init as Record<string, unknown>)[name]
    if ((taker === 'transport' || taker === 'both') && value !== undefined) picked[name] = value
  }
  return picked as Libp2pTransportInit
}

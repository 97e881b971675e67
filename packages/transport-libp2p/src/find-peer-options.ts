import { FIND_PEER_AFTER, FIND_PEER_INTERVAL, FIND_PEER_TIMEOUT } from './constants.js'

/**
 * When the transport looks a peer up again through libp2p's peer routing
 * (`findPeer`: a DHT, a delegated router) because its known addresses keep
 * failing. Every field is optional.
 */
export interface FindPeerInit {
  /** Failed dials in a row to the peer before it is looked up (default 5, at least 1). */
  after?: number
  /** ms: a peer is looked up at most once per this long (default 300,000: five minutes). */
  interval?: number
  /** ms a lookup may take before it is aborted and counts as failed (default 30,000). */
  timeout?: number
}

/** `findPeer` with its defaults applied; `undefined` when lookups are off. */
export interface FindPeerSettings {
  /** Failed dials in a row before a lookup. */
  after: number
  /** ms between the starts of two lookups of a peer, at least. */
  interval: number
  /** ms a lookup may take. */
  timeout: number
}

const NAMES = new Set(['after', 'interval', 'timeout'])

function integer(value: unknown, fallback: number, name: string, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(
      `findPeer.${name} must be an integer of at least ${min}, got ${JSON.stringify(value)}`
    )
  }
  return value
}

/**
 * Validates the `findPeer` option (`true` or omitted: the defaults; `false`:
 * no lookups; an object: `after`, `interval`, `timeout`) and applies the
 * defaults. A wrong value or an unknown name is a `TypeError` naming it.
 */
export function findPeerSettings(value: unknown): FindPeerSettings | undefined {
  if (value === false) return undefined
  const init = value === undefined || value === true ? {} : value
  if (init === null || typeof init !== 'object' || Array.isArray(init)) {
    throw new TypeError(
      `findPeer must be a boolean or { after?, interval?, timeout? }, got ${JSON.stringify(value)}`
    )
  }
  for (const name of Object.keys(init)) {
    if (!NAMES.has(name)) throw new TypeError(`findPeer: unknown option "${name}"`)
  }
  const { after, interval, timeout } = init as Record<string, unknown>
  return {
    after: integer(after, FIND_PEER_AFTER, 'after', 1),
    interval: integer(interval, FIND_PEER_INTERVAL, 'interval', 0),
    timeout: integer(timeout, FIND_PEER_TIMEOUT, 'timeout', 1)
  }
}

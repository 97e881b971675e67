import type { Message, MultiaddrLike, OutgoingMessage, PeerIdLike } from './types.js'
import { validateMessage } from './validate.js'

/**
 * A string as is; a libp2p object (`PeerId`, `Multiaddr`) as its
 * `toString()`. `TypeError` naming `name` for an object without one of its
 * own (whose `toString()` gives `[object ...]`). Other values are returned
 * as they are, for the caller's own check to name.
 */
export function textOf(value: unknown, name: string): unknown {
  if (typeof value === 'string' || value == null || typeof value !== 'object') return value
  const text = String(value)
  if (text.startsWith('[object ')) {
    throw new TypeError(`${name} must be a string, a PeerId or a Multiaddr`)
  }
  return text
}

/** A peer given as a string or a `PeerId`, as a non-empty string; `TypeError` naming `name` otherwise. */
export function peerText(peer: string | PeerIdLike, name: string): string {
  const text = textOf(peer, name)
  if (typeof text !== 'string' || text.length === 0) {
    throw new TypeError(`${name} must be a non-empty string or a PeerId`)
  }
  return text
}

/** The message with its peer and addresses as strings, validated (`TypeError` naming the field). */
export function normalizeMessage(message: OutgoingMessage): Message {
  if (message == null || typeof message !== 'object')
    throw new TypeError('message must be an object')
  const normalized = { ...message } as Message
  normalized.peer = textOf(message.peer, 'message.peer') as string
  if (Array.isArray(message.addrs)) {
    normalized.addrs = message.addrs.map(
      (addr: string | MultiaddrLike, index) => textOf(addr, `message.addrs[${index}]`) as string
    )
  }
  validateMessage(normalized)
  return normalized
}

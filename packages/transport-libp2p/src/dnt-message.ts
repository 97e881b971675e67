import {
  createEntry,
  type Entry,
  levelOf,
  type Message,
  NONE,
  type OutgoingMessage,
  type Policy
} from '@dntkit/core'
import type { AbortOptions, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * A message for `node.services.dnt.send()`: the peer as a libp2p `PeerId` or
 * its string, the addresses to dial it at as `Multiaddr`s or strings.
 */
export interface DntMessage extends Omit<OutgoingMessage, 'peer' | 'addrs'> {
  peer: PeerId | string
  addrs?: Array<Multiaddr | string>
}

/** Options of `node.services.dnt.send()`: libp2p's `AbortOptions` (`signal`), and a level. */
export interface DntSendOptions extends AbortOptions {
  /** Use this level instead of the one the policy maps the protocol to. */
  level?: string
}

/** `message` with its peer and addresses as strings. */
function plainMessage(message: DntMessage): Message {
  if (message == null || typeof message !== 'object')
    throw new TypeError('message must be an object')
  const { peer, addrs, ...rest } = message
  const plain: Message = {
    ...rest,
    peer: typeof peer === 'string' || peer == null ? (peer as string) : peer.toString()
  }
  if (addrs !== undefined) {
    if (!Array.isArray(addrs)) throw new TypeError('message.addrs must be an array')
    plain.addrs = addrs.map((addr) => (typeof addr === 'string' ? addr : String(addr)))
  }
  return plain
}

/**
 * The entry the outbox would make of `message` under `level` (default: the
 * policy's level of its protocol), which must persist: the application
 * writes it into the store itself.
 */
export function entryFor(
  message: DntMessage,
  policy: Policy,
  level: string | undefined,
  now: number
): Entry {
  const plain = plainMessage(message)
  const name = level ?? levelOf(policy, plain.protocol)
  if (name === NONE) {
    throw new TypeError(
      `level "none" (the policy's level for ${plain.protocol}) is never kept: there is no entry to write`
    )
  }
  const found = policy.levels[name]
  if (found === undefined) throw new TypeError(`unknown level "${name}"`)
  if (!found.persist) {
    throw new TypeError(
      `level "${name}" does not persist: only an entry of a level with persist: true belongs in the store`
    )
  }
  return createEntry(plain, name, now)
}

import { peerIdFromString } from '@libp2p/peer-id'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { UsageError } from './errors.js'

/** Where `dnt send` delivers: a peer id and the address to dial it at. */
export interface Target {
  peer: string
  addrs: string[]
}

/** Checks a peer id string; returns its canonical form. `where` names the flag. */
export function parsePeerId(text: string, where: string): string {
  try {
    return peerIdFromString(text).toString()
  } catch (error) {
    throw new UsageError(`${where}: "${text}" is not a valid peer id (${(error as Error).message})`)
  }
}

/** Parses a multiaddr, or throws a `UsageError` naming the flag. */
export function parseMultiaddr(text: string, flag: string): Multiaddr {
  try {
    return multiaddr(text)
  } catch (error) {
    throw new UsageError(`${flag} "${text}" is not a valid multiaddr (${(error as Error).message})`)
  }
}

/** `--to MULTIADDR/p2p/PEER`: an address to dial, ending with the peer id. */
export function parseTarget(text: string, flag = '--to'): Target {
  const address = parseMultiaddr(text, flag)
  const components = address.getComponents()
  const last = components.at(-1)
  if (last?.name !== 'p2p' || last.value === undefined) {
    throw new UsageError(
      `${flag} "${text}" must end with /p2p/PEER_ID, the id of the peer to send to`
    )
  }
  if (components.length < 2) {
    throw new UsageError(`${flag} "${text}" has no address to dial before /p2p/${last.value}`)
  }
  const peer = parsePeerId(last.value, `${flag} "${text}"`)
  return { peer, addrs: [address.toString()] }
}

import type { PeerId } from '@libp2p/interface'
import { CODE_P2P, type Multiaddr } from '@multiformats/multiaddr'
import type { Host } from './host.js'

/**
 * How a peer lookup ended: `found` (the routing answered with addresses),
 * `not-found` (it knows no address of the peer), `failed` (it threw or did
 * not answer within `findPeer.timeout`, or the node has no peer routing),
 * `aborted` (the transport closed).
 */
export type PeerLookupResult = 'found' | 'not-found' | 'failed' | 'aborted'

/** One peer lookup, as `onPeerLookup` listeners get it once it ended. */
export interface PeerLookup {
  /** The peer looked up. */
  peer: string
  /** Failed dials in a row that led to the lookup. */
  failures: number
  /** How it ended. */
  result: PeerLookupResult
  /** The addresses the routing answered with (without `/p2p/<peer>`), merged into the peer store. */
  addresses: string[]
  /** Those of `addresses` the peer store did not hold before. */
  newAddresses: string[]
  /** Why it failed (`failed`, `aborted`). */
  error?: Error
}

/** What a lookup found: the peer's usable addresses, and which of them are new. */
export interface FoundAddresses {
  /** The peer's addresses, as the peer store keeps them. */
  addresses: string[]
  /** Those the peer store did not hold before. */
  newAddresses: string[]
}

/**
 * Asks the node's peer routing for `peerId` (not from its cache: what is
 * cached is what failed) and merges the addresses it answers with into the
 * peer store, where the next dial by peer id finds them. Resolves with no
 * addresses when the routing knows none (`NotFoundError`); rejects with what
 * the routing threw, or with the signal's reason as soon as it aborts (a
 * router that ignores the signal cannot hold anything up).
 */
export async function findAddresses(
  host: Host,
  peerId: PeerId,
  signal: AbortSignal
): Promise<FoundAddresses> {
  const known = await abortable(knownAddresses(host, peerId, signal), signal)
  let found: Multiaddr[]
  try {
    const info = await abortable(host.findPeer(peerId, { signal, useCache: false }), signal)
    found = info.id.equals(peerId) ? info.multiaddrs : []
  } catch (error) {
    if (!signal.aborted && (error as Error)?.name === 'NotFoundError')
      return { addresses: [], newAddresses: [] }
    throw error
  }
  const multiaddrs = usable(found, peerId)
  if (multiaddrs.length === 0) return { addresses: [], newAddresses: [] }
  await abortable(host.peerStore.merge(peerId, { multiaddrs }, { signal }), signal)
  const addresses = multiaddrs.map((multiaddr) => multiaddr.toString())
  return { addresses, newAddresses: addresses.filter((address) => !known.has(address)) }
}

/** The addresses the peer store holds for the peer (none when it does not know the peer). */
async function knownAddresses(
  host: Host,
  peerId: PeerId,
  signal: AbortSignal
): Promise<Set<string>> {
  try {
    const peer = await host.peerStore.get(peerId, { signal })
    return new Set(peer.addresses.map((address) => address.multiaddr.toString()))
  } catch (error) {
    if ((error as Error)?.name === 'NotFoundError') return new Set()
    throw error
  }
}

/**
 * The addresses as the peer store keeps them: a `/p2p/<peer>` suffix naming
 * the peer is dropped, an address naming another peer is left out, each once.
 */
function usable(multiaddrs: readonly Multiaddr[], peerId: PeerId): Multiaddr[] {
  const byText = new Map<string, Multiaddr>()
  for (const address of multiaddrs) {
    const last = address.getComponents().at(-1)
    let kept = address
    if (last?.code === CODE_P2P) {
      if (last.value == null || !peerId.equals(last.value)) continue
      kept = address.decapsulateCode(CODE_P2P)
    }
    byText.set(kept.toString(), kept)
  }
  return [...byText.values()]
}

/** `promise`, or the signal's reason as soon as it aborts (the promise's own outcome is then ignored). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      }
    )
  })
}

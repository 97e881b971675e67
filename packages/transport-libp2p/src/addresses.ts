import { type Entry, UndeliverableError } from '@dntkit/core'
import type { PeerId, PeerStore } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { CODE_P2P, type Multiaddr, multiaddr } from '@multiformats/multiaddr'

/** Remembered merges, at most (then the memory starts over). */
const MAX_REMEMBERED = 10_000

/**
 * Turns an entry's `peer` and `addrs` into what libp2p dials, and merges the
 * addresses into the peer store before the dial. A merge is skipped when the
 * same addresses were merged for that peer already, so draining a backlog
 * does not write the peer store once per entry. Bad input can never succeed,
 * so it throws `UndeliverableError` (reason `invalid-peer` or
 * `invalid-address`) naming the entry and the value.
 */
export class AddressBook {
  private readonly peers = new Map<string, PeerId>()
  private readonly merged = new Map<string, string>()

  constructor(private readonly peerStore: PeerStore) {}

  peerId(entry: Entry): PeerId {
    let peerId = this.peers.get(entry.peer)
    if (peerId != null) return peerId
    try {
      peerId = peerIdFromString(entry.peer)
    } catch (error) {
      throw new UndeliverableError(
        `message ${entry.id}: peer "${entry.peer}" is not a valid peer id`,
        {
          cause: error,
          reason: 'invalid-peer'
        }
      )
    }
    if (this.peers.size >= MAX_REMEMBERED) this.peers.clear()
    this.peers.set(entry.peer, peerId)
    return peerId
  }

  /** Merges `entry.addrs` (if any) into the peer store. */
  async merge(peerId: PeerId, entry: Entry): Promise<void> {
    if (entry.addrs == null || entry.addrs.length === 0) return
    const key = entry.addrs.join(' ')
    if (this.merged.get(entry.peer) === key) return
    const multiaddrs = entry.addrs.map((addr) => parseAddress(addr, entry, peerId))
    await this.peerStore.merge(peerId, { multiaddrs })
    if (this.merged.size >= MAX_REMEMBERED) this.merged.clear()
    this.merged.set(entry.peer, key)
  }

  /** Forgets what was merged for `peer` (e.g. after a failed dial, so the next attempt merges again). */
  forget(peer: string): void {
    this.merged.delete(peer)
  }
}

function parseAddress(addr: string, entry: Entry, peerId: PeerId): Multiaddr {
  let parsed: Multiaddr
  try {
    parsed = multiaddr(addr)
  } catch (error) {
    throw new UndeliverableError(
      `message ${entry.id}: address "${addr}" is not a valid multiaddr`,
      {
        cause: error,
        reason: 'invalid-address'
      }
    )
  }
  const last = parsed.getComponents().at(-1)
  if (last?.code === CODE_P2P) {
    if (!samePeer(last.value, peerId)) {
      throw new UndeliverableError(
        `message ${entry.id}: address "${addr}" names peer ${last.value}, not ${entry.peer}`,
        { reason: 'invalid-address' }
      )
    }
    return parsed.decapsulateCode(CODE_P2P)
  }
  return parsed
}

function samePeer(value: string | undefined, peerId: PeerId): boolean {
  try {
    return value != null && peerIdFromString(value).equals(peerId)
  } catch {
    return false
  }
}

import type { Metrics } from '@libp2p/interface'
import type { Libp2pTransport } from './libp2p-transport.js'

/**
 * Registers `dntkit_peer_lookups_total{result}` (`found`, `not-found`,
 * `failed`, `aborted`) and `dntkit_peer_lookup_new_addresses_total` with the
 * node's metrics and counts the transport's peer lookups into them.
 */
export function countPeerLookups(metrics: Metrics, transport: Libp2pTransport): () => void {
  const lookups = metrics.registerCounterGroup('dntkit_peer_lookups_total', {
    label: 'result',
    help: 'Peers looked up through the peer routing after their addresses failed, by result'
  })
  const newAddresses = metrics.registerCounter('dntkit_peer_lookup_new_addresses_total', {
    help: 'Addresses peer lookups found that the peer store did not hold'
  })
  return transport.onPeerLookup((lookup) => {
    lookups.increment({ [lookup.result]: 1 })
    if (lookup.newAddresses.length > 0) newAddresses.increment(lookup.newAddresses.length)
  })
}

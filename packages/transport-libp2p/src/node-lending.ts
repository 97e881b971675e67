import type { Store, StoreNode } from '@dntkit/core'
import type { NodeComponents } from './host.js'

/** A component of libp2p's components, or `undefined` where the node has none (its proxy throws then). */
function component<K extends keyof NodeComponents>(
  components: NodeComponents,
  name: K
): NodeComponents[K] | undefined {
  try {
    return components[name]
  } catch {
    return undefined
  }
}

/**
 * Lends a store what the node has for it, before the store is opened: the
 * node's private key (the store key of a store made without one follows the
 * node's identity) and the node's datastore. A store without `useNode`
 * (the memory store, a store of the application's own) is left as it is.
 */
export function lendNode(store: Store | undefined, components: NodeComponents): void {
  if (store == null || typeof store.useNode !== 'function') return
  const node: StoreNode = {}
  const privateKey = component(components, 'privateKey')
  if (privateKey != null) node.privateKey = privateKey
  const datastore = component(components, 'datastore')
  if (datastore != null) node.datastore = datastore
  store.useNode(node)
}

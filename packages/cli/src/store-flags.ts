import type { FlagSpec } from './arguments.js'

/** `--key FILE`, shared by every command that opens a store or a node. */
export const KEY_FLAG: FlagSpec = {
  type: 'string',
  value: 'FILE',
  required: true,
  description:
    'node key: libp2p protobuf (dnt keygen) or PKCS#8 PEM Ed25519; also keys the store encryption'
}

/** `--store URI`. */
export const STORE_FLAG: FlagSpec = {
  type: 'string',
  value: 'URI',
  required: true,
  description: 'memory:, file:DIR, level:DIR or oc-discovery:FILE'
}

/** `--json`. */
export const JSON_FLAG: FlagSpec = {
  type: 'boolean',
  description: 'print JSON for scripts instead of text'
}

/** `--listen MULTIADDR` of `send` and `flush`. */
export const LISTEN_FLAG: FlagSpec = {
  type: 'string',
  value: 'MULTIADDR',
  multiple: true,
  description: 'also listen here: a peer that connects to us gets its queue flushed at once'
}

import { createHash } from 'node:crypto'
import { ed25519FromSeed, encodePrivateKey } from '@dntkit/core'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'

/** A node identity derived from a name, so every process of a run agrees on it. */
export interface Identity {
  /** 64 raw bytes (seed || public key): what the stores derive their keys from. */
  raw: Uint8Array
  privateKey: PrivateKey
  peerId: string
  /** The key file `dnt` reads (libp2p protobuf, as `dnt keygen` writes it). */
  keyFile: Uint8Array
}

/** The Ed25519 identity whose seed is SHA-256(`chaos/` + name). */
export function identityFor(name: string): Identity {
  const seed = createHash('sha256').update(`chaos/${name}`).digest()
  const raw = ed25519FromSeed(new Uint8Array(seed))
  const privateKey = privateKeyFromRaw(raw)
  return {
    raw,
    privateKey,
    peerId: peerIdFromPrivateKey(privateKey).toString(),
    keyFile: encodePrivateKey(raw)
  }
}

import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'

const PREFIX = 'dntkit-example:identity:'

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')
}

function fromHex(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length / 2)
  for (let index = 0; index < bytes.length; index++) {
    bytes[index] = Number.parseInt(text.slice(index * 2, index * 2 + 2), 16)
  }
  return bytes
}

/**
 * The node's Ed25519 key, kept in `localStorage` under `name` so the peer id,
 * and the store key derived from it, stay the same across reloads. A new
 * name makes a new key. An application keeps its key where its threat model
 * says (a non-extractable WebCrypto key, a passphrase, the user's device
 * keystore); localStorage is readable by any script of the origin.
 */
export async function loadIdentity(storage: Storage, name: string): Promise<Ed25519PrivateKey> {
  const item = `${PREFIX}${name}`
  let seed = storage.getItem(item)
  if (seed === null || !/^[0-9a-f]{64}$/.test(seed)) {
    seed = toHex(crypto.getRandomValues(new Uint8Array(32)))
    storage.setItem(item, seed)
  }
  return generateKeyPairFromSeed('Ed25519', fromHex(seed))
}

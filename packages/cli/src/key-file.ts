import { readFileSync, statSync } from 'node:fs'
import { parsePrivateKey } from '@dntkit/core'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { UsageError } from './errors.js'

/** A node identity read from a key file. */
export interface Identity {
  /** The 64 raw bytes (seed || public key) the stores derive their keys from. */
  raw: Uint8Array
  /** The same key as libp2p uses it. */
  privateKey: PrivateKey
  /** Its peer id, as a string. */
  peerId: string
  /** The file it came from. */
  file: string
}

/** Describes why `path` cannot be read, or returns its bytes. */
export function readInputFile(path: string, flag: string): Uint8Array {
  let kind: string
  try {
    const stat = statSync(path)
    kind = stat.isDirectory() ? 'directory' : stat.isFile() ? 'file' : 'other'
  } catch (error) {
    const code = (error as { code?: string }).code
    throw new UsageError(
      code === 'ENOENT'
        ? `${flag} ${path}: no such file`
        : `${flag} ${path}: cannot read it (${code ?? error})`
    )
  }
  if (kind === 'directory') throw new UsageError(`${flag} ${path}: is a directory, not a file`)
  try {
    return readFileSync(path)
  } catch (error) {
    throw new UsageError(
      `${flag} ${path}: cannot read it (${(error as { code?: string }).code ?? error})`
    )
  }
}

/**
 * Reads a key file: the libp2p protobuf private key `dnt keygen` writes, or a
 * PKCS#8 PEM Ed25519 key. Anything else is a `UsageError` naming the file.
 */
export function readKeyFile(path: string, flag = '--key'): Identity {
  const bytes = readInputFile(path, flag)
  let raw: Uint8Array
  try {
    raw = parsePrivateKey(bytes)
  } catch (error) {
    throw new UsageError(`${flag} ${path}: ${(error as Error).message}`, { cause: error })
  }
  const privateKey = privateKeyFromRaw(raw)
  return { raw, privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), file: path }
}

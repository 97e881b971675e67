import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ed25519FromSeed } from '@dntkit/core'

/** Two unrelated node keys (64 raw bytes each). */
export const privateKey = ed25519FromSeed(new Uint8Array(32).fill(7))
export const otherPrivateKey = ed25519FromSeed(new Uint8Array(32).fill(9))

/** A fresh temporary directory and its removal. */
export async function temporaryDirectory(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'dntkit-store-datastore-'))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Entry, ed25519FromSeed } from '@dntkit/core'

/** A fixed Ed25519 identity key (64 raw bytes) for tests. */
export function testPrivateKey(seedByte = 1): Uint8Array {
  return ed25519FromSeed(new Uint8Array(32).fill(seedByte))
}

export interface TemporaryDirectory {
  path: string
  remove(): Promise<void>
}

/** A fresh temporary directory; `remove()` deletes it. */
export async function temporaryDirectory(
  prefix = 'dntkit-store-file-'
): Promise<TemporaryDirectory> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}

/** xorshift32 in [0, 1): random but reproducible. */
export function random(seed: number): () => number {
  let state = seed >>> 0 || 1
  return () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 0x1_0000_0000
  }
}

/** Offsets and lengths of the records of a journal or snapshot file (marker first). */
export function framesOf(bytes: Uint8Array): { offset: number; end: number }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const frames: { offset: number; end: number }[] = []
  let offset = 32
  while (offset + 8 <= bytes.byteLength) {
    const end = offset + 8 + view.getUint32(offset)
    frames.push({ offset, end })
    offset = end
  }
  return frames
}

/** The store's files (name -> bytes), lock and subdirectories excluded. */
export async function storeFiles(directory: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>()
  for (const name of (await readdir(directory)).sort()) {
    if (/^(journal|snapshot)-/.test(name)) files.set(name, await readFile(join(directory, name)))
  }
  return files
}

export function names(files: Map<string, Buffer>, kind: 'journal' | 'snapshot'): string[] {
  return [...files.keys()].filter((name) => name.startsWith(kind))
}

/** An entry for tests with a readable id. */
export function entry(id: string, overrides: Partial<Entry> = {}): Entry {
  return {
    id,
    peer: '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp',
    protocol: '/app/create/1.0.0',
    payload: new TextEncoder().encode(`payload of ${id}`),
    level: 'critical',
    attempts: 0,
    createdAt: 1_700_000_000_000,
    nextAttemptAt: 1_700_000_000_000,
    ...overrides
  }
}

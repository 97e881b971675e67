import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ed25519FromSeed } from '@dntkit/core'
import { ClassicLevel as Level } from 'classic-level'

/** Two unrelated node keys (64 raw bytes each). */
export const privateKey = ed25519FromSeed(new Uint8Array(32).fill(7))
export const otherPrivateKey = ed25519FromSeed(new Uint8Array(32).fill(9))

/** A fresh temporary directory and its removal. */
export async function temporaryDirectory(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'dntkit-store-level-'))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}

/** Every key and value of the database at `location` (hex), read with the store closed. */
export async function rawContents(location: string): Promise<Map<string, string>> {
  const db = new Level<Uint8Array, Uint8Array>(location, {
    keyEncoding: 'view',
    valueEncoding: 'view'
  })
  await db.open()
  try {
    const out = new Map<string, string>()
    for await (const [key, value] of db.iterator()) {
      out.set(Buffer.from(key).toString('hex'), Buffer.from(value).toString('hex'))
    }
    return out
  } finally {
    await db.close()
  }
}

/** Opens the raw database at `location`, lets `change` edit it, closes it. */
export async function editRaw(
  location: string,
  change: (db: Level<Uint8Array, Uint8Array>) => Promise<void>
): Promise<void> {
  const db = new Level<Uint8Array, Uint8Array>(location, {
    keyEncoding: 'view',
    valueEncoding: 'view'
  })
  await db.open()
  try {
    await change(db)
  } finally {
    await db.close()
  }
}

/** The raw key of entry `sequence` in the default sublevel `dntkit`. */
export function rawEntryKey(sequence: number, prefix = 'dntkit'): Uint8Array {
  const key = Buffer.alloc(prefix.length + 2 + 9)
  key.write(`!${prefix}!`, 0, 'latin1')
  key[prefix.length + 2] = 0x65
  key.writeBigUInt64BE(BigInt(sequence), prefix.length + 3)
  return key
}

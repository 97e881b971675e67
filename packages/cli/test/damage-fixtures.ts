/** Stores of a damage test: entries, a file store written batch by batch, a flipped bit. */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import type { Entry } from '@dntkit/core'
import { fileStore, ocDiscoveryFileStore } from '@dntkit/store-file'
import { levelStore } from '@dntkit/store-level'

/** Entries `count` of them, one dead-lettered, with a fractional next attempt time. */
export function entries(prefix: string, count: number): Entry[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `${prefix}-${index}`,
    peer: '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp',
    protocol: '/dntkit-test/damage/1.0.0',
    payload: new TextEncoder().encode(`payload ${index}`),
    level: 'critical',
    attempts: index,
    createdAt: 1_700_000_000_000 + index,
    nextAttemptAt: 1_700_000_000_000.25 + index,
    ...(index === count - 1
      ? { deadLetter: { reason: 'exhausted' as const, at: 1_700_000_100_000.5 } }
      : {})
  }))
}

/** Writes `batches` (one apply each) to a file store in `directory`; with `compact`, a snapshot after the first half. */
export async function fileStoreWith(
  directory: string,
  privateKey: Uint8Array,
  batches: Entry[][],
  compact = false
): Promise<string> {
  const store = fileStore({ directory, privateKey, compaction: false })
  await store.open()
  for (const [index, batch] of batches.entries()) {
    await store.apply({ put: batch })
    if (compact && index === Math.floor(batches.length / 2) - 1) await store.compact()
  }
  await store.close()
  return directory
}

export function flip(file: string, offset: number): void {
  const bytes = readFileSync(file)
  bytes[offset] = (bytes[offset] as number) ^ 0x04
  writeFileSync(file, bytes)
}

/** Record offsets of a store file: after the 32-byte header, u32 BE length frames. */
export function frames(file: string): Array<{ offset: number; end: number }> {
  const bytes = readFileSync(file)
  const found: Array<{ offset: number; end: number }> = []
  for (let offset = 32; offset + 8 <= bytes.byteLength; ) {
    const end = offset + 8 + bytes.readUInt32BE(offset)
    found.push({ offset, end })
    offset = end
  }
  return found
}

/** The few methods of a `level` database the fixtures use to alter a value. */
interface RawLevel {
  open(): Promise<void>
  get(key: Uint8Array): Promise<Uint8Array | undefined>
  put(key: Uint8Array, value: Uint8Array): Promise<void>
  close(): Promise<void>
}

/** A level store at `location` holding `stored`, with one bit of the value of key `e:2` flipped. */
export async function damagedLevelStore(
  location: string,
  privateKey: Uint8Array,
  stored: Entry[]
): Promise<void> {
  const level = levelStore({ location, privateKey })
  await level.open()
  await level.apply({ put: stored })
  await level.close()
  const { ClassicLevel: Level } = (await import('classic-level')) as unknown as {
    ClassicLevel: new (location: string, options: object) => RawLevel
  }
  const raw = new Level(location, { keyEncoding: 'view', valueEncoding: 'view' })
  await raw.open()
  const valueKey = Buffer.concat([Buffer.from('!dntkit!e'), Buffer.from([0, 0, 0, 0, 0, 0, 0, 2])])
  const value = Buffer.from((await raw.get(valueKey)) as Uint8Array)
  value[25] = (value[25] as number) ^ 1
  await raw.put(valueKey, value)
  await raw.close()
}

/**
 * The Go original's `dnt_cache.bin` at `file` holding `stored`, then sealed
 * again with `{ "did": 5 }` as its second element: it decrypts, but that
 * element is not an entry.
 */
export async function damagedGoFile(
  file: string,
  privateKey: Uint8Array,
  stored: Entry[]
): Promise<void> {
  const go = ocDiscoveryFileStore({ file, privateKey })
  await go.open()
  await go.apply({ put: stored })
  await go.close()
  const goKey = Buffer.from(
    hkdfSync('sha256', privateKey, Buffer.alloc(0), 'oc-discovery/dnt-cache/v1', 32)
  )
  const sealed = readFileSync(file)
  const decipher = createDecipheriv('aes-256-gcm', goKey, sealed.subarray(0, 12))
  decipher.setAuthTag(sealed.subarray(sealed.byteLength - 16))
  const elements = JSON.parse(
    Buffer.concat([
      decipher.update(sealed.subarray(12, sealed.byteLength - 16)),
      decipher.final()
    ]).toString()
  ) as unknown[]
  elements.splice(1, 0, { did: 5 })
  const nonce = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', goKey, nonce)
  const body = Buffer.concat([cipher.update(JSON.stringify(elements)), cipher.final()])
  writeFileSync(file, Buffer.concat([nonce, body, cipher.getAuthTag()]))
}

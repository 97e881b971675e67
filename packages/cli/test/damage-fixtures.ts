/** Stores of a damage test: entries, a file store written batch by batch, a flipped bit. */
import { readFileSync, writeFileSync } from 'node:fs'
import type { Entry } from '@dntkit/core'
import { fileStore } from '@dntkit/store-file'

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

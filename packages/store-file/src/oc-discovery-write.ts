import { dirname } from 'node:path'
import type { Aead } from '@dntkit/core/plugin'
import { replaceFile, writeAll } from './file-system.js'
import { type Held, NO_ASSOCIATED_DATA } from './oc-discovery-read.js'

const textEncoder = new TextEncoder()

/**
 * Writes `held` as the Go original's file: the JSON array of the elements'
 * texts, sealed whole, replaced atomically and durably (tmp, fsync, rename,
 * fsync directory).
 */
export async function writeCache(file: string, key: Aead, held: Map<string, Held>): Promise<void> {
  // Go's json.Marshal of an empty (nil) slice is null
  const texts = Array.from(held.values(), (item) => item.text)
  const json = texts.length === 0 ? 'null' : `[${texts.join(',')}]`
  const sealed = await key.seal(textEncoder.encode(json), NO_ASSOCIATED_DATA)
  await replaceFile(file, dirname(file), async (handle) => {
    await writeAll(handle, sealed, 0)
    return sealed.byteLength
  })
}

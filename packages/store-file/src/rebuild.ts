import { readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Aead } from '@dntkit/core/plugin'
import { fileTimestamp, keepAside } from './aside.js'
import { syncDirectory } from './file-system.js'
import { Journal } from './journal.js'
import { parseFileName } from './record-format.js'
import { listDirectory } from './recovery.js'
import { damagedFiles, type Salvage } from './salvage.js'
import { writeSnapshot } from './snapshot.js'

/** A damaged file and where its bytes were kept. */
export interface MovedFile {
  file: string
  movedTo: string
}

/**
 * Rebuilds a store from what `salvage` read: copies every damaged file to
 * `<name>.corrupt-<time>` (fsynced), writes the next generation (an empty
 * journal, then a snapshot of the salvaged entries, each atomically), and
 * only then removes the files that snapshot replaces. A crash at any step
 * leaves either the store as it was (plus the copies) or the rebuilt one.
 */
export async function rebuildStore(
  directory: string,
  salvage: Salvage,
  key: Aead
): Promise<MovedFile[]> {
  const stamp = fileTimestamp()
  const moved: MovedFile[] = []
  for (const file of damagedFiles(salvage)) {
    if (file.missing) continue
    const movedTo = await keepAside(file.path, await readFile(file.path), 'corrupt', stamp)
    moved.push({ file: file.path, movedTo })
  }
  const generation = salvage.generation + 1
  const journal = await Journal.create(directory, generation, salvage.storeId, key)
  await journal.close()
  await writeSnapshot(directory, generation, salvage.storeId, key, [...salvage.entries.values()])
  // the snapshot is durable: every older store file is replaced (the damaged ones are kept aside)
  const listing = await listDirectory(directory)
  for (const name of listing.storeFiles) {
    const parsed = parseFileName(name)
    if (parsed !== undefined && parsed.generation < generation) {
      await unlink(join(directory, name))
    }
  }
  await syncDirectory(directory)
  return moved
}

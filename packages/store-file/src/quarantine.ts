import { randomBytes } from 'node:crypto'
import { mkdir, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { DIRECTORY_MODE } from './constants.js'
import { syncDirectory } from './file-system.js'

/**
 * Moves the named files of `directory` into a new subdirectory
 * `quarantine-<time>-<random>` (0700) and makes the moves durable. Nothing
 * is deleted; moving the files back restores the store as it was.
 */
export async function quarantineFiles(directory: string, names: string[]): Promise<string> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const target = join(directory, `quarantine-${stamp}-${randomBytes(3).toString('hex')}`)
  await mkdir(target, { mode: DIRECTORY_MODE })
  for (const name of names) await rename(join(directory, name), join(target, name))
  await syncDirectory(target)
  await syncDirectory(directory)
  return target
}

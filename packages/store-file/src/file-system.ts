import { type FileHandle, mkdir, open, rename, stat, unlink } from 'node:fs/promises'
import { DIRECTORY_MODE, FILE_MODE, TEMPORARY_SUFFIX } from './constants.js'

/** Makes the directory's entries (creations, renames, removals) durable. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Writes all of `bytes` at `position` (a single `write` may write less). */
export async function writeAll(
  handle: FileHandle,
  bytes: Uint8Array,
  position: number
): Promise<void> {
  let written = 0
  while (written < bytes.byteLength) {
    const result = await handle.write(
      bytes,
      written,
      bytes.byteLength - written,
      position + written
    )
    if (result.bytesWritten <= 0) throw new Error('write made no progress')
    written += result.bytesWritten
  }
}

/**
 * Replaces `path` atomically and durably: writes `path.tmp` (0600), fsyncs
 * it, renames it over `path`, fsyncs the directory. `write` gets the handle
 * and returns the bytes written. The temporary file is removed on failure.
 */
export async function replaceFile(
  path: string,
  directory: string,
  write: (handle: FileHandle) => Promise<number>
): Promise<number> {
  const temporary = path + TEMPORARY_SUFFIX
  let size: number
  const handle = await open(temporary, 'w', FILE_MODE)
  try {
    size = await write(handle)
    await handle.sync()
  } catch (error) {
    await handle.close().catch(() => {})
    await unlink(temporary).catch(() => {})
    throw error
  }
  await handle.close()
  try {
    await rename(temporary, path)
  } catch (error) {
    await unlink(temporary).catch(() => {})
    throw error
  }
  await syncDirectory(directory)
  return size
}

/**
 * Creates `directory` (0700, parents as needed) unless it exists; throws a
 * `TypeError` naming it when the path exists and is not a directory. Returns
 * whether an existing directory is readable by group or others.
 */
export async function ensureDirectory(
  directory: string,
  option: string
): Promise<{ exposed: boolean }> {
  try {
    const info = await stat(directory)
    if (!info.isDirectory()) {
      throw new TypeError(`${option}: "${directory}" exists and is not a directory`)
    }
    return { exposed: (info.mode & 0o077) !== 0 }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  await mkdir(directory, { recursive: true, mode: DIRECTORY_MODE })
  return { exposed: false }
}

/** Error code of a Node file-system error, if any. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

import { open } from 'node:fs/promises'
import { dirname } from 'node:path'
import { FILE_MODE } from './constants.js'
import { errorCode, syncDirectory, writeAll } from './file-system.js'

/** Why bytes are kept beside a store file: cut off as a torn tail, or moved aside as damaged. */
export type AsideReason = 'torn' | 'corrupt'

/** A time for a file name: ISO 8601 without `:` and `.`, e.g. `2025-03-14T09-26-53-589Z`. */
export function fileTimestamp(now: Date = new Date()): string {
  return now.toISOString().replace(/[:.]/g, '-')
}

/**
 * Writes `bytes` to a new file `<path>.<reason>-<stamp>` beside `path`
 * (0600; `-2`, `-3`, ... added rather than replacing a file of that name),
 * fsyncs it and its directory, and returns its path. The store never reads
 * or removes these files.
 */
export async function keepAside(
  path: string,
  bytes: Uint8Array,
  reason: AsideReason,
  stamp: string = fileTimestamp()
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const target = `${path}.${reason}-${stamp}${attempt === 1 ? '' : `-${attempt}`}`
    let handle: Awaited<ReturnType<typeof open>>
    try {
      handle = await open(target, 'wx', FILE_MODE)
    } catch (error) {
      if (errorCode(error) === 'EEXIST' && attempt < 1000) continue
      throw error
    }
    try {
      await writeAll(handle, bytes, 0)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await syncDirectory(dirname(path))
    return target
  }
}

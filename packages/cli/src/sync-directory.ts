import { closeSync, fsyncSync, openSync } from 'node:fs'

/** fsyncs a directory so a file just created in it survives a crash (best effort where unsupported). */
export function syncDirectory(path: string): void {
  let descriptor: number | undefined
  try {
    descriptor = openSync(path, 'r')
    fsyncSync(descriptor)
  } catch {
    // some platforms cannot fsync a directory; the file itself is already synced
  } finally {
    if (descriptor !== undefined) closeSync(descriptor)
  }
}

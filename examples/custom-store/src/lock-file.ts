import { open, readFile, unlink, writeFile } from 'node:fs/promises'
import { StoreLockedError } from '@dntkit/core'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * One writer at a time: creates `path` holding our pid, or throws
 * `StoreLockedError` while another live process (or another store object of
 * this process) holds it. A lock left by a process that died is taken over.
 * Returns the function that releases it.
 */
export async function acquireLock(path: string, what: string): Promise<() => Promise<void>> {
  try {
    const handle = await open(path, 'wx', 0o600)
    await handle.writeFile(String(process.pid))
    await handle.close()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10)
    if (Number.isSafeInteger(holder) && holder > 0 && alive(holder)) {
      throw new StoreLockedError(`${what} is locked by process ${holder} (${path})`)
    }
    // the holder is gone (it crashed): take the lock over
    await writeFile(path, String(process.pid), { mode: 0o600 })
  }
  return () => unlink(path).catch(() => {})
}

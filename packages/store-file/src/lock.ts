import { randomBytes } from 'node:crypto'
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { StoreLockedError } from '@dntkit/core'
import { FILE_MODE } from './constants.js'
import { errorCode } from './file-system.js'

/** Lock files held by stores of this process, shared by every copy of this package that is loaded. */
const HELD = Symbol.for('@dntkit/store-file/held-locks')
const registry = globalThis as Record<symbol, unknown>
const held = (registry[HELD] as Set<string> | undefined) ?? new Set<string>()
registry[HELD] = held

/** A lock file this process holds. */
export interface Lock {
  readonly path: string
  release(): Promise<void>
}

/** True while a process with this pid exists (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return errorCode(error) === 'EPERM'
  }
}

async function readHolder(path: string): Promise<number | undefined | 'gone'> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'gone'
    throw error
  }
  const pid = Number.parseInt(text.trim(), 10)
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
}

/** Creates `path` holding `content` only if it does not exist; false when it does. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  // write a private file, then hard-link it: the lock never exists half-written
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}`
  await writeFile(temporary, content, { mode: FILE_MODE, flag: 'wx' })
  try {
    await link(temporary, path)
    return true
  } catch (error) {
    const code = errorCode(error)
    if (code === 'EEXIST') return false
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error
    // a file system without hard links: exclusive create
    try {
      await writeFile(path, content, { mode: FILE_MODE, flag: 'wx' })
      return true
    } catch (fallbackError) {
      if (errorCode(fallbackError) === 'EEXIST') return false
      throw fallbackError
    }
  } finally {
    await unlink(temporary).catch(() => {})
  }
}

/**
 * Takes the lock file `path` for this process. Throws `StoreLockedError`
 * naming the holder when another store of this process or a live process
 * holds it. A lock left by a dead process is taken over and reported
 * through `onStale`.
 */
export async function acquireLock(
  path: string,
  what: string,
  onStale: (pid: number | undefined) => void
): Promise<Lock> {
  if (held.has(path)) {
    throw new StoreLockedError(
      `${what} is already open by another store in this process (pid ${process.pid}, lock file ${path})`
    )
  }
  held.add(path)
  try {
    for (let round = 0; round < 5; round++) {
      if (await createExclusive(path, `${process.pid}\n`)) return lockOf(path)
      const holder = await readHolder(path)
      if (holder === 'gone') continue
      if (holder !== undefined && holder !== process.pid && processAlive(holder)) {
        throw new StoreLockedError(`${what} is locked by process ${holder} (lock file ${path})`)
      }
      // the holder is dead (or is this pid, reused, with no store of ours holding it): take over
      const aside = `${path}.stale-${randomBytes(6).toString('hex')}`
      try {
        await rename(path, aside)
      } catch (error) {
        if (errorCode(error) === 'ENOENT') continue
        throw error
      }
      const moved = await readHolder(aside)
      if (moved !== holder) {
        // someone took the lock between our read and our rename: give it back
        await link(aside, path).catch(() => {})
      } else {
        onStale(holder)
      }
      await unlink(aside).catch(() => {})
    }
    throw new StoreLockedError(
      `${what}: could not take the lock file ${path}, it keeps changing hands`
    )
  } catch (error) {
    held.delete(path)
    throw error
  }
}

function lockOf(path: string): Lock {
  let released = false
  return {
    path,
    async release() {
      if (released) return
      released = true
      try {
        if ((await readHolder(path)) === process.pid) await unlink(path)
      } finally {
        held.delete(path)
      }
    }
  }
}

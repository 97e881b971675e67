import { realpath, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { describeError, type Entry, type Logger, StoreCorruptError } from '@dntkit/core'
import { type Aead, decodeEntry } from '@dntkit/core/plugin'
import { keepAside } from './aside.js'
import { LOCK_FILE } from './constants.js'
import { corruptionError, describeDamage } from './damage-report.js'
import { ensureDirectory, errorCode, syncDirectory } from './file-system.js'
import { acquireLock, type Lock } from './lock.js'
import { rebuildStore } from './rebuild.js'
import { isUnsupportedVersion } from './record-format.js'
import { type DirectoryListing, listDirectory, type Recovered, recover } from './recovery.js'
import { damagedFiles, salvageStore } from './salvage.js'
import type { StoreWarningCode } from './warnings.js'

/** How many times a read-only open reads again when a writer changed the files meanwhile. */
const READ_ATTEMPTS = 5

/** What opening a store directory needs. */
export interface OpenContext {
  /** The directory as given. */
  directory: string
  key: Aead
  onCorrupt: 'throw' | 'quarantine'
  warn(code: StoreWarningCode, file: string, message: string): void
  log: Logger
}

/** A directory opened for writing: locked, recovered (undefined when it holds no store yet). */
export interface WritableDirectory {
  directory: string
  lock: Lock
  recovered?: Recovered
}

function hasStore(listing: DirectoryListing): boolean {
  return listing.snapshot !== undefined || listing.journals.length > 0
}

/**
 * Recovers the store; on corruption reads what still authenticates, then
 * throws (`onCorrupt: 'throw'`) a `StoreCorruptError` saying so, or
 * (`'quarantine'`) rebuilds the store from it when `writable`, returning
 * `undefined` for the caller to recover again. Read-only, `'quarantine'`
 * returns the salvaged entries and changes nothing.
 */
async function recoverOrSalvage(
  context: OpenContext,
  directory: string,
  listing: DirectoryListing,
  writable: boolean
): Promise<Recovered | Entry[] | undefined> {
  try {
    return await recover(directory, listing, context.key)
  } catch (error) {
    if (!StoreCorruptError.isInstance(error) || isUnsupportedVersion(error)) throw error
    const salvage = await salvageStore(directory, listing, context.key)
    // never rebuilt from a key that opens no marker: it may not be the store's
    if (context.onCorrupt === 'throw' || !salvage.verified) throw corruptionError(error, salvage)
    const damage = damagedFiles(salvage).map(describeDamage).join(' | ')
    if (!writable) {
      context.warn(
        'quarantined',
        directory,
        `${describeError(error)}; read-only, so nothing was moved: opened with the ${salvage.entries.size} entries that still authenticate (${damage})`
      )
      return Array.from(salvage.entries.values(), decodeEntry)
    }
    const moved = await rebuildStore(directory, salvage, context.key)
    context.warn(
      'quarantined',
      directory,
      `${describeError(error)}; rebuilt from the ${salvage.entries.size} entries that still authenticate, damaged files kept as ${moved.map((item) => item.movedTo).join(', ') || '(none)'} (${damage})`
    )
    return undefined
  }
}

/** Locks the directory (creating it 0700 if missing) and recovers the store in it. */
export async function openForWriting(context: OpenContext): Promise<WritableDirectory> {
  const { exposed } = await ensureDirectory(context.directory, 'fileStore directory')
  const directory = await realpath(context.directory)
  if (exposed) {
    context.warn('exposed-directory', directory, `${directory} is accessible to group or others`)
  }
  const lockPath = join(directory, LOCK_FILE)
  const lock = await acquireLock(lockPath, `store directory ${directory}`, (pid) => {
    context.warn(
      'stale-lock',
      lockPath,
      `took over the lock of process ${pid ?? '(unknown)'}, which is gone`
    )
  })
  try {
    let listing = await listDirectory(directory)
    let recovered: Recovered | undefined
    if (hasStore(listing)) {
      const result = await recoverOrSalvage(context, directory, listing, true)
      if (result === undefined) {
        listing = await listDirectory(directory)
        recovered = await recover(directory, listing, context.key)
      } else recovered = result as Recovered
    }
    await removeLeftovers(context, directory, listing.leftovers)
    const active = recovered?.journals.at(-1)
    if (active?.tail !== undefined) {
      const { file, validEnd, tail } = active
      const cut = file.bytes.byteLength - validEnd
      const kept = await keepAside(file.path, file.bytes.subarray(validEnd), 'torn')
      context.warn(
        'torn-tail',
        file.path,
        `${file.path}: cut off ${cut} bytes at offset ${validEnd} (${tail.reason}): the last append was interrupted; the cut bytes are kept in ${kept}`
      )
    }
    return { directory, lock, ...(recovered === undefined ? {} : { recovered }) }
  } catch (error) {
    await lock.release().catch(() => {})
    throw error
  }
}

async function removeLeftovers(
  context: OpenContext,
  directory: string,
  leftovers: string[]
): Promise<void> {
  for (const name of leftovers) {
    // a leftover that cannot be removed is harmless: it is ignored by every open
    await unlink(join(directory, name)).catch((error) => {
      if (errorCode(error) !== 'ENOENT')
        context.log.error('cannot remove %s: %s', name, describeError(error))
    })
  }
  if (leftovers.length > 0) await syncDirectory(directory)
}

function sameListing(left: DirectoryListing, right: DirectoryListing): boolean {
  return [...left.storeFiles].sort().join('/') === [...right.storeFiles].sort().join('/')
}

/**
 * Reads the store without writing, creating, renaming or locking anything:
 * a missing directory is an empty store, a torn tail is reported and left as
 * it is, and a writer that compacts meanwhile (files replaced between the
 * listing and the reads) makes it read again.
 */
export async function openForReading(context: OpenContext): Promise<Entry[]> {
  try {
    if (!(await stat(context.directory)).isDirectory()) {
      throw new TypeError(
        `fileStore directory: "${context.directory}" exists and is not a directory`
      )
    }
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return []
    throw error
  }
  const directory = await realpath(context.directory)
  for (let attempt = 1; ; attempt++) {
    const listing = await listDirectory(directory)
    if (!hasStore(listing)) return []
    try {
      const result = await recoverOrSalvage(context, directory, listing, false)
      if (Array.isArray(result)) return result
      const recovered = result as Recovered
      const active = recovered.journals.at(-1)
      if (active?.tail !== undefined) {
        const { file, validEnd, tail } = active
        context.warn(
          'torn-tail',
          file.path,
          `${file.path}: the last ${file.bytes.byteLength - validEnd} bytes from offset ${validEnd} are a torn record (${tail.reason}), left as they are (read-only); an open for writing cuts them off`
        )
      }
      return recovered.decoded
    } catch (error) {
      if (attempt >= READ_ATTEMPTS) throw error
      const changed =
        errorCode(error) === 'ENOENT' || !sameListing(listing, await listDirectory(directory))
      if (!changed) throw error
    }
  }
}

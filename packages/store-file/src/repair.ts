import { realpath, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { RepairedFile, StoreRepairReport } from '@dntkit/core'
import {
  defaultLogger,
  type LoggerFactory,
  type PrivateKeyInput,
  StoreCorruptError,
  StoreKeyMismatchError
} from '@dntkit/core'
import { createAead, rejectUnknownOptions } from '@dntkit/core/plugin'
import { FILE_STORE_LABEL, LOCK_FILE, LOGGER_NAME } from './constants.js'
import { acquireLock } from './lock.js'
import { rebuildStore } from './rebuild.js'
import { isUnsupportedVersion } from './record-format.js'
import { listDirectory, recover } from './recovery.js'
import { damagedFiles, salvageStore } from './salvage.js'

/** Options of `repairFileStore()`: where the store is and its key, as for `fileStore()`. */
export interface RepairFileStoreInit {
  directory: string
  privateKey?: PrivateKeyInput
  key?: CryptoKey | Uint8Array
  logger?: LoggerFactory
}

/**
 * Repairs a `fileStore` directory: with the store locked (a running writer
 * makes it `StoreLockedError`), reads every record that still authenticates,
 * past damage too where the framing lets it resynchronise; copies each
 * damaged file to `<name>.corrupt-<time>`; writes the store anew (a new
 * journal and a snapshot of what was read) and removes the files that
 * snapshot replaces. A store without damage is left untouched
 * (`repaired: false`). A wrong key (`StoreKeyMismatchError`) and a newer
 * format version are refused with nothing changed. A batch lost to damage
 * leaves its changes unknown: entries it put are gone unless a later batch
 * put them again, entries it deleted may come back (and be delivered again).
 */
export async function repairFileStore(init: RepairFileStoreInit): Promise<StoreRepairReport> {
  if (init == null || typeof init !== 'object')
    throw new TypeError('repairFileStore: init must be an object')
  rejectUnknownOptions(init, ['directory', 'privateKey', 'key', 'logger'], 'repairFileStore')
  if (typeof init.directory !== 'string' || init.directory.length === 0) {
    throw new TypeError('repairFileStore: directory must be a non-empty string')
  }
  if (init.privateKey == null && init.key == null) {
    throw new TypeError('repairFileStore: privateKey or key is required')
  }
  const log = (init.logger ?? defaultLogger)(`${LOGGER_NAME}:repair`)
  const key = await createAead(init, FILE_STORE_LABEL)
  const found = await stat(init.directory).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw error
  })
  if (found === undefined) {
    throw new TypeError(`repairFileStore: no store at "${init.directory}" (it does not exist)`)
  }
  if (!found.isDirectory()) {
    throw new TypeError(`repairFileStore: "${init.directory}" is not a directory`)
  }
  const directory = await realpath(init.directory)
  const lock = await acquireLock(
    join(directory, LOCK_FILE),
    `store directory ${directory}`,
    () => {}
  )
  try {
    const listing = await listDirectory(directory)
    const healthy = { store: directory, repaired: false, files: [], undecodable: [] }
    if (listing.snapshot === undefined && listing.journals.length === 0) {
      return { ...healthy, entries: 0 }
    }
    try {
      const recovered = await recover(directory, listing, key)
      if (recovered.journals.at(-1)?.tail === undefined) {
        return { ...healthy, entries: recovered.entries.size }
      }
    } catch (error) {
      if (!StoreCorruptError.isInstance(error) || isUnsupportedVersion(error)) throw error
    }
    const salvage = await salvageStore(directory, listing, key)
    if (!salvage.verified) {
      throw new StoreKeyMismatchError(
        `${directory}: the node's key differs from the one this store was written with, or every marker record is damaged (no marker opens with this key); nothing was changed`
      )
    }
    const moved = await rebuildStore(directory, salvage, key)
    const files: RepairedFile[] = damagedFiles(salvage).map((file) => {
      const movedTo = moved.find((item) => item.file === file.path)?.movedTo
      return {
        file: file.path,
        ...(movedTo === undefined ? {} : { movedTo }),
        missing: file.missing,
        kept: file.kept,
        lost: file.lost.map((region) => ({
          record: region.record,
          ...(file.missing ? {} : { offset: region.offset, bytes: region.end - region.offset }),
          ...(region.records === undefined ? {} : { records: region.records }),
          reason: region.reason
        }))
      }
    })
    log(
      'repaired %s: %d entries kept, %d damaged file(s)',
      directory,
      salvage.entries.size,
      files.length
    )
    return {
      store: directory,
      repaired: true,
      entries: salvage.entries.size,
      files,
      undecodable: salvage.undecodable
    }
  } finally {
    await lock.release()
  }
}

import { readFile, realpath } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { StoreRepairReport } from '@dntkit/core'
import {
  defaultLogger,
  type LoggerFactory,
  type PrivateKeyInput,
  StoreCorruptError
} from '@dntkit/core'
import { createAead, rejectUnknownOptions } from '@dntkit/core/plugin'
import { keepAside } from './aside.js'
import { LOCK_SUFFIX, LOGGER_NAME, OC_DISCOVERY_LABEL } from './constants.js'
import { acquireLock } from './lock.js'
import { readCache } from './oc-discovery-read.js'
import { writeCache } from './oc-discovery-write.js'

/** Options of `repairOcDiscoveryStore()`: the file and its key, as for `ocDiscoveryFileStore()`. */
export interface RepairOcDiscoveryStoreInit {
  file: string
  privateKey?: PrivateKeyInput
  key?: CryptoKey | Uint8Array
  logger?: LoggerFactory
}

/**
 * Repairs the Go original's `dnt_cache.bin`: with its lock taken, keeps the
 * file as `dnt_cache.bin.corrupt-<time>` and rewrites it with every element
 * that decodes (`repaired: false` and nothing changed when all do). The file
 * is one sealed blob: when it does not decrypt, a wrong key and damage look
 * alike, so that is `StoreKeyMismatchError` and nothing is changed; move the
 * file aside by hand once sure the key is right.
 */
export async function repairOcDiscoveryStore(
  init: RepairOcDiscoveryStoreInit
): Promise<StoreRepairReport> {
  if (init == null || typeof init !== 'object')
    throw new TypeError('repairOcDiscoveryStore: init must be an object')
  rejectUnknownOptions(init, ['file', 'privateKey', 'key', 'logger'], 'repairOcDiscoveryStore')
  if (typeof init.file !== 'string' || init.file.length === 0) {
    throw new TypeError('repairOcDiscoveryStore: file must be a non-empty string')
  }
  if (init.privateKey == null && init.key == null) {
    throw new TypeError('repairOcDiscoveryStore: privateKey or key is required')
  }
  const log = (init.logger ?? defaultLogger)(`${LOGGER_NAME}:oc-discovery:repair`)
  const key = await createAead(init, OC_DISCOVERY_LABEL)
  const file = join(await realpath(dirname(init.file)), basename(init.file))
  const lock = await acquireLock(file + LOCK_SUFFIX, file, () => {})
  try {
    let contents: Awaited<ReturnType<typeof readCache>>
    try {
      contents = await readCache(file, key)
    } catch (error) {
      // too short, or it decrypts (so the key is right) to something that is no JSON array
      if (!StoreCorruptError.isInstance(error)) throw error
      contents = { held: new Map(), invalid: [{ index: 0, reason: error.message }], elements: 0 }
    }
    if (contents === undefined || contents.invalid.length === 0) {
      return {
        store: file,
        repaired: false,
        entries: contents?.held.size ?? 0,
        files: [],
        undecodable: []
      }
    }
    const movedTo = await keepAside(file, await readFile(file), 'corrupt')
    await writeCache(file, key, contents.held)
    log(
      'repaired %s: %d elements kept, %d dropped',
      file,
      contents.held.size,
      contents.invalid.length
    )
    return {
      store: file,
      repaired: true,
      entries: contents.held.size,
      files: [
        {
          file,
          movedTo,
          missing: false,
          kept: contents.held.size,
          lost: contents.invalid.map((item) => ({
            record: item.index,
            records: 1,
            reason: contents.elements === 0 ? item.reason : `element ${item.reason}`
          }))
        }
      ],
      undecodable: []
    }
  } finally {
    await lock.release()
  }
}

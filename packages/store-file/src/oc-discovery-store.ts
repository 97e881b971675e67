import { readFile, realpath } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import {
  defaultLogger,
  describeError,
  type Entry,
  type LoggerFactory,
  type PrivateKeyInput,
  type Store
} from '@dntkit/core'
import { type Aead, cloneEntry, createAead, type ValidBatch } from '@dntkit/core/plugin'
import { keepAside } from './aside.js'
import { LOCK_SUFFIX, LOGGER_NAME, OC_DISCOVERY_LABEL } from './constants.js'
import { resolveOnCorrupt } from './file-store-init.js'
import { ensureDirectory } from './file-system.js'
import { acquireLock, type Lock } from './lock.js'
import { encodeElement } from './oc-discovery-element.js'
import { type Held, invalidElements, readCache } from './oc-discovery-read.js'
import { writeCache } from './oc-discovery-write.js'
import type { StoreEventTarget, StoreWarning } from './warnings.js'
import { WarningStore } from './warnings.js'

/** Options of `ocDiscoveryFileStore()`. */
export interface OcDiscoveryFileStoreInit {
  /** Path of the Go original's `dnt_cache.bin` (created on the first apply if missing). */
  file: string
  /** The node's Ed25519 private key; the key is HKDF(info `oc-discovery/dnt-cache/v1`) of it. */
  privateKey?: PrivateKeyInput
  /** The 32-byte AES-256 key itself, instead of `privateKey`. */
  key?: CryptoKey | Uint8Array
  /** Read without ever writing: no directory or lock file is created, `apply()` rejects with `StoreReadOnlyError` (default false). */
  readOnly?: boolean
  /**
   * What `open()` does when elements do not decode: `'throw'` (default) a
   * `StoreCorruptError`, nothing changed; `'quarantine'` keeps the file as
   * `dnt_cache.bin.corrupt-<time>` and rewrites it with the elements that
   * decode, with a `quarantined` warning (read-only: opens with them).
   */
  onCorrupt?: 'throw' | 'quarantine'
  /** Called with each warning the store raises (e.g. a damaged file kept aside), besides the `warning` event. */
  onWarning?: (warning: StoreWarning) => void
  logger?: LoggerFactory
}

/** The store `ocDiscoveryFileStore()` returns. */
export interface OcDiscoveryFileStore extends Store, StoreEventTarget {
  open(): Promise<Entry[]>
}

class OcDiscoveryStore extends WarningStore implements OcDiscoveryFileStore {
  private file: string
  private key?: Aead
  private lock?: Lock
  private held = new Map<string, Held>()

  constructor(
    private readonly init: OcDiscoveryFileStoreInit & { onCorrupt: 'throw' | 'quarantine' }
  ) {
    super({
      name: `oc-discovery store ${init.file}`,
      readOnly: init.readOnly ?? false,
      log: (init.logger ?? defaultLogger)(`${LOGGER_NAME}:oc-discovery`),
      onWarning: init.onWarning
    })
    this.file = init.file
  }

  protected async _open(): Promise<Entry[]> {
    this.key ??= await createAead(this.init, OC_DISCOVERY_LABEL)
    if (this.readOnly) {
      this.held = await this.read(this.init.file, this.key)
      this.log('opened %s read-only: %d entries', this.init.file, this.held.size)
      return this.entries()
    }
    await ensureDirectory(dirname(this.init.file), 'ocDiscoveryFileStore file directory')
    this.file = join(await realpath(dirname(this.init.file)), basename(this.init.file))
    const lockPath = this.file + LOCK_SUFFIX
    this.lock = await acquireLock(lockPath, this.file, (pid) => {
      this.warn(
        'stale-lock',
        lockPath,
        `took over the lock of process ${pid ?? '(unknown)'}, which is gone`
      )
    })
    try {
      this.held = await this.read(this.file, this.key)
    } catch (error) {
      await this.lock.release().catch(() => {})
      this.lock = undefined
      throw error
    }
    this.log('opened %s: %d entries', this.file, this.held.size)
    return this.entries()
  }

  private entries(): Entry[] {
    return Array.from(this.held.values(), (held) => cloneEntry(held.entry))
  }

  /** The elements that decode; on invalid ones, throws or (`quarantine`) sets the file aside. */
  private async read(file: string, key: Aead): Promise<Map<string, Held>> {
    const contents = await readCache(file, key)
    if (contents === undefined) return new Map()
    if (contents.invalid.length === 0) return contents.held
    const error = invalidElements(file, contents)
    if (this.init.onCorrupt === 'throw') throw error
    if (this.readOnly) {
      this.warn(
        'quarantined',
        file,
        `${describeError(error)}; read-only, so nothing was moved: opened with the ${contents.held.size} elements that decode`
      )
      return contents.held
    }
    const aside = await keepAside(file, await readFile(file), 'corrupt')
    await writeCache(file, key, contents.held)
    this.warn(
      'quarantined',
      file,
      `${describeError(error)}; the file is kept as ${aside} and was rewritten with the ${contents.held.size} elements that decode`
    )
    return contents.held
  }

  protected async _apply({ put, delete: remove }: ValidBatch): Promise<void> {
    if (put.length === 0 && !remove.some((id) => this.held.has(id))) return
    const next = new Map(this.held)
    // deletes first: an id both deleted and put in one batch moves to the end of the array
    for (const id of remove) next.delete(id)
    for (const entry of put) {
      const origin = this.held.get(entry.id)?.origin
      next.set(entry.id, {
        entry,
        text: encodeElement(entry, origin),
        ...(origin ? { origin } : {})
      })
    }
    await writeCache(this.file, this.key as Aead, next)
    this.held = next
  }

  protected async _close(): Promise<void> {
    await this.lock?.release()
    this.lock = undefined
    this.held = new Map()
  }
}

/**
 * A `Store` on the Go original's `dnt_cache.bin` (oc-discovery): one file,
 * 12-byte nonce || AES-256-GCM of the JSON array of entries, rewritten whole
 * and atomically (tmp, fsync, rename, fsync directory) by every apply. For a
 * node moving between the Go and the TypeScript implementation; use
 * `fileStore()` for large queues.
 */
export function ocDiscoveryFileStore(init: OcDiscoveryFileStoreInit): OcDiscoveryFileStore {
  if (init == null || typeof init !== 'object')
    throw new TypeError('ocDiscoveryFileStore: init must be an object')
  const known = ['file', 'privateKey', 'key', 'readOnly', 'onCorrupt', 'onWarning', 'logger']
  const unknown = Object.keys(init).find((name) => !known.includes(name))
  if (unknown !== undefined) {
    throw new TypeError(`ocDiscoveryFileStore: unknown option "${unknown}"`)
  }
  if (typeof init.file !== 'string' || init.file.length === 0) {
    throw new TypeError('ocDiscoveryFileStore: file must be a non-empty string')
  }
  if (init.privateKey == null && init.key == null) {
    throw new TypeError('ocDiscoveryFileStore: privateKey or key is required')
  }
  const onCorrupt = resolveOnCorrupt('ocDiscoveryFileStore', init)
  return new OcDiscoveryStore({ ...init, onCorrupt })
}

import { createHash } from 'node:crypto'
import { readFile, realpath, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import {
  type Aead,
  cloneEntry,
  createAead,
  DecryptionError,
  defaultLogger,
  type Entry,
  type LoggerFactory,
  type PrivateKeyInput,
  type Store,
  type StoreBatch,
  StoreClosedError,
  StoreCorruptError,
  StoreKeyMismatchError,
  StoreLockedError,
  validateBatch,
  validateEntry
} from '@dntkit/core'
import { LOCK_SUFFIX, LOGGER_NAME, OC_DISCOVERY_LABEL } from './constants.js'

/** The Go format seals the whole file without associated data. */
const NO_ASSOCIATED_DATA = new Uint8Array(0)

import { ensureDirectory, errorCode, replaceFile, writeAll } from './file-system.js'
import { splitArray } from './json-scan.js'
import { acquireLock, type Lock } from './lock.js'
import { decodeElement, type ElementOrigin, encodeElement } from './oc-discovery-element.js'
import type { StoreEventTarget } from './warnings.js'
import { type StoreWarning, WarningEmitter } from './warnings.js'

/** Options of `ocDiscoveryFileStore()`. */
export interface OcDiscoveryFileStoreInit {
  /** Path of the Go original's `dnt_cache.bin` (created on the first apply if missing). */
  file: string
  /** The node's Ed25519 private key; the key is HKDF(info `oc-discovery/dnt-cache/v1`) of it. */
  privateKey?: PrivateKeyInput
  /** The 32-byte AES-256 key itself, instead of `privateKey`. */
  key?: CryptoKey | Uint8Array
  /** Called with each warning the store raises (e.g. a damaged file kept aside), besides the `warning` event. */
  onWarning?: (warning: StoreWarning) => void
  logger?: LoggerFactory
}

/** The store `ocDiscoveryFileStore()` returns. */
export interface OcDiscoveryFileStore extends Store, StoreEventTarget {
  open(): Promise<Entry[]>
}

interface Held {
  entry: Entry
  /** The element's JSON text as it will be written. */
  text: string
  origin?: ElementOrigin
}

const textDecoder = new TextDecoder('utf-8', { fatal: true })
const textEncoder = new TextEncoder()

class OcDiscoveryStore extends WarningEmitter implements OcDiscoveryFileStore {
  private file: string
  private key?: Aead
  private lock?: Lock
  private held = new Map<string, Held>()
  private phase: 'closed' | 'opening' | 'open' = 'closed'
  private opening?: Promise<Entry[]>
  private queue: Promise<unknown> = Promise.resolve()

  constructor(private readonly init: OcDiscoveryFileStoreInit) {
    super((init.logger ?? defaultLogger)(`${LOGGER_NAME}:oc-discovery`), init.onWarning)
    this.file = init.file
  }

  async open(): Promise<Entry[]> {
    if (this.phase !== 'closed')
      throw new StoreLockedError(`${this.file}: this store is already open`)
    this.phase = 'opening'
    this.opening = this.openFile()
    return this.opening
  }

  private async openFile(): Promise<Entry[]> {
    try {
      this.key ??= await createAead(this.init, OC_DISCOVERY_LABEL)
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
      this.held = await this.read(this.key)
      this.phase = 'open'
      this.log('opened %s: %d entries', this.file, this.held.size)
      return Array.from(this.held.values(), (held) => cloneEntry(held.entry))
    } catch (error) {
      await this.lock?.release().catch(() => {})
      this.lock = undefined
      this.phase = 'closed'
      throw error
    }
  }

  private async read(key: Aead): Promise<Map<string, Held>> {
    const held = new Map<string, Held>()
    let bytes: Uint8Array
    try {
      const info = await stat(this.file)
      if (!info.isFile())
        throw new TypeError(`ocDiscoveryFileStore: "${this.file}" is not a regular file`)
      bytes = await readFile(this.file)
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return held
      throw error
    }
    let plaintext: Uint8Array
    try {
      plaintext = await key.open(bytes, NO_ASSOCIATED_DATA)
    } catch (error) {
      if (!DecryptionError.isInstance(error) || bytes.byteLength < 28) {
        throw new StoreCorruptError(
          `${this.file}: ${bytes.byteLength} bytes, too short for nonce and tag`
        )
      }
      throw new StoreKeyMismatchError(
        `${this.file}: does not decrypt with this key (written with another node key, or corrupted; the format cannot tell which)`,
        { cause: error }
      )
    }
    let elements: string[]
    let values: unknown[]
    try {
      const text = textDecoder.decode(plaintext)
      const parsed: unknown = JSON.parse(text)
      if (parsed !== null && !Array.isArray(parsed)) throw new TypeError('not an array')
      values = (parsed as unknown[] | null) ?? []
      elements = splitArray(text)
      if (elements.length !== values.length) throw new TypeError('element count differs')
    } catch (error) {
      throw new StoreCorruptError(`${this.file}: decrypted content is not a JSON array`, {
        cause: error
      })
    }
    const derived = new Map<string, number>()
    for (const [index, raw] of elements.entries()) {
      let decoded: ReturnType<typeof decodeElement>
      try {
        decoded = decodeElement(raw, values[index])
        if (decoded.entry.id === '') {
          // no dntkit id: derive one from the element's text, the same on every open
          const hash = `oc-${createHash('sha256').update(raw).digest('hex').slice(0, 32)}`
          const seen = (derived.get(hash) ?? 0) + 1
          derived.set(hash, seen)
          decoded.entry.id = seen === 1 ? hash : `${hash}-${seen}`
          decoded.origin.rawKeepsId = seen === 1
        }
        validateEntry(decoded.entry, 'element')
      } catch (error) {
        throw new StoreCorruptError(
          `${this.file}: element ${index} is invalid: ${(error as Error).message}`,
          {
            cause: error
          }
        )
      }
      const { entry, origin } = decoded
      if (held.has(entry.id)) {
        throw new StoreCorruptError(`${this.file}: element ${index} repeats the id "${entry.id}"`)
      }
      // an element whose id is not in its text gets it written in, so the id survives deletes of its twin
      held.set(entry.id, {
        entry,
        origin,
        text: origin.rawKeepsId ? raw : encodeElement(entry, origin)
      })
    }
    return held
  }

  async apply(batch: StoreBatch): Promise<void> {
    if (this.phase !== 'open') throw new StoreClosedError(`${this.file}: the store is not open`)
    const { put, delete: remove } = validateBatch(batch)
    const puts = put.map(cloneEntry)
    const deletes = remove.slice()
    const run = this.queue.then(() => this.commit(puts, deletes))
    this.queue = run.catch(() => {})
    return run
  }

  private async commit(puts: Entry[], deletes: string[]): Promise<void> {
    if (puts.length === 0 && !deletes.some((id) => this.held.has(id))) return
    const next = new Map(this.held)
    for (const entry of puts) {
      const origin = next.get(entry.id)?.origin
      next.set(entry.id, {
        entry,
        text: encodeElement(entry, origin),
        ...(origin ? { origin } : {})
      })
    }
    for (const id of deletes) next.delete(id)
    // Go's json.Marshal of an empty (nil) slice is null
    const texts = Array.from(next.values(), (held) => held.text)
    const json = texts.length === 0 ? 'null' : `[${texts.join(',')}]`
    const sealed = await (this.key as Aead).seal(textEncoder.encode(json), NO_ASSOCIATED_DATA)
    const directory = dirname(this.file)
    await replaceFile(this.file, directory, async (handle) => {
      await writeAll(handle, sealed, 0)
      return sealed.byteLength
    })
    this.held = next
  }

  async close(): Promise<void> {
    // a close during open waits for the open, then closes what it opened
    if (this.phase === 'opening') await this.opening?.catch(() => {})
    if (this.phase !== 'open') return
    this.phase = 'closed'
    await this.queue
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
  if (typeof init.file !== 'string' || init.file.length === 0) {
    throw new TypeError('ocDiscoveryFileStore: file must be a non-empty string')
  }
  if (init.privateKey == null && init.key == null) {
    throw new TypeError('ocDiscoveryFileStore: privateKey or key is required')
  }
  return new OcDiscoveryStore(init)
}

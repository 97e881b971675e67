import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { DecryptionError, type Entry, StoreCorruptError, StoreKeyMismatchError } from '@dntkit/core'
import { type Aead, NONCE_BYTES, TAG_BYTES, validateEntry } from '@dntkit/core/plugin'
import { errorCode } from './file-system.js'
import { splitArray } from './json-scan.js'
import { decodeElement, type ElementOrigin, encodeElement } from './oc-discovery-element.js'

/** The Go format seals the whole file without associated data. */
export const NO_ASSOCIATED_DATA = new Uint8Array(0)

/** An element of the file as the store keeps it. */
export interface Held {
  entry: Entry
  /** The element's JSON text as it will be written. */
  text: string
  origin?: ElementOrigin
}

/** What a `dnt_cache.bin` holds. */
export interface CacheContents {
  /** The elements that decode, by entry id, in file order. */
  held: Map<string, Held>
  /** Elements that do not decode or repeat an id. */
  invalid: Array<{ index: number; reason: string }>
  /** Elements in the file. */
  elements: number
}

const textDecoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Reads and decrypts the Go original's file; `undefined` when it does not
 * exist. Throws `StoreKeyMismatchError` when it does not decrypt (a wrong key
 * and a damaged file look the same in this format: one sealed blob),
 * `StoreCorruptError` when it is too short or decrypts to something other
 * than a JSON array, and `TypeError` when the path is not a regular file.
 * Elements that do not decode are listed, not thrown.
 */
export async function readCache(file: string, key: Aead): Promise<CacheContents | undefined> {
  let bytes: Uint8Array
  try {
    const info = await stat(file)
    if (!info.isFile()) throw new TypeError(`ocDiscoveryFileStore: "${file}" is not a regular file`)
    bytes = await readFile(file)
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  }
  const whole = { file, offset: 0, record: 0, readableBefore: 0, readableAfter: 0 }
  if (bytes.byteLength < NONCE_BYTES + TAG_BYTES) {
    throw new StoreCorruptError(
      `${file}: ${bytes.byteLength} bytes, too short for nonce and tag; nothing was changed`,
      whole
    )
  }
  let plaintext: Uint8Array
  try {
    plaintext = await key.open(bytes, NO_ASSOCIATED_DATA)
  } catch (error) {
    if (!DecryptionError.isInstance(error)) throw error
    throw new StoreKeyMismatchError(
      `${file}: does not decrypt with this key (written with another node key, or damaged: the format, one sealed blob, cannot tell which); nothing was changed`,
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
    throw new StoreCorruptError(
      `${file}: decrypted content is not a JSON array; nothing was changed`,
      { cause: error, ...whole, offset: NONCE_BYTES }
    )
  }
  const held = new Map<string, Held>()
  const invalid: CacheContents['invalid'] = []
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
      invalid.push({ index, reason: `is invalid: ${(error as Error).message}` })
      continue
    }
    const { entry, origin } = decoded
    if (held.has(entry.id)) {
      invalid.push({ index, reason: `repeats the id "${entry.id}"` })
      continue
    }
    // an element whose id is not in its text gets it written in, so the id survives deletes of its twin
    held.set(entry.id, {
      entry,
      origin,
      text: origin.rawKeepsId ? raw : encodeElement(entry, origin)
    })
  }
  return { held, invalid, elements: elements.length }
}

/** The `StoreCorruptError` of a file with invalid elements: the first, and what reads around it. */
export function invalidElements(file: string, contents: CacheContents): StoreCorruptError {
  const first = contents.invalid[0] as CacheContents['invalid'][number]
  // the first invalid element: every element before it reads
  const before = first.index
  const readableAfter = contents.held.size - before
  return new StoreCorruptError(
    `${file}: element ${first.index} ${first.reason} (${contents.invalid.length} of ${contents.elements} elements do not read; ${contents.held.size} do); nothing was changed; a repair keeps the ${contents.held.size} and moves the file aside`,
    { file, record: first.index, readableBefore: before, readableAfter }
  )
}

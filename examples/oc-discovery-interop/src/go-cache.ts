/**
 * The Go original's `dnt_cache.bin` (oc-discovery `dnt_cache.go`), with
 * node:crypto only: this module stands in for the Go node. It writes the file
 * as `persistToDisk` does and reads it as `loadFromDisk` does.
 *
 * File = 12-byte nonce || AES-256-GCM(JSON array) || 16-byte tag, the key
 * HKDF-SHA256(ikm = the node's 64-byte Ed25519 private key, salt = empty,
 * info = "oc-discovery/dnt-cache/v1"), 32 bytes.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { readFile, rename, writeFile } from 'node:fs/promises'

export const GO_CACHE_LABEL = 'oc-discovery/dnt-cache/v1'
const NONCE_BYTES = 12
const TAG_BYTES = 16

/** Go's `dntEntryJSON`, field for field (`addr` is go-libp2p's `AddrInfo`). */
export interface GoCacheEntry {
  did: string
  addr: { ID: string; Addrs: string[] }
  /** `*tools.DataType`: absent when nil (`omitempty`). */
  dt?: number
  user: string
  /** `[]byte`: base64 in the JSON. */
  payload: Uint8Array
  proto: string
  retries: number
  /** `time.Time`: RFC 3339 with up to nanoseconds. */
  added_at: string
}

/** `deriveDNTKey()`: 32 bytes of HKDF-SHA256 over the raw 64-byte private key. */
export function goCacheKey(rawPrivateKey: Uint8Array): Buffer {
  if (rawPrivateKey.byteLength !== 64)
    throw new TypeError('expected the 64 raw bytes of an Ed25519 key')
  return Buffer.from(hkdfSync('sha256', rawPrivateKey, Buffer.alloc(0), GO_CACHE_LABEL, 32))
}

/** A JSON string as Go's encoding/json writes it (it also escapes <, >, &, U+2028, U+2029). */
function goString(value: string): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`
  )
}

/** `json.Marshal(toSave)`: fields in struct order, no spaces; a nil slice is `null`. */
export function marshalGoCache(entries: GoCacheEntry[]): string {
  if (entries.length === 0) return 'null'
  const elements = entries.map((entry) => {
    const fields = [
      `"did":${goString(entry.did)}`,
      `"addr":{"ID":${goString(entry.addr.ID)},"Addrs":[${entry.addr.Addrs.map(goString).join(',')}]}`,
      ...(entry.dt === undefined ? [] : [`"dt":${entry.dt}`]),
      `"user":${goString(entry.user)}`,
      `"payload":"${Buffer.from(entry.payload).toString('base64')}"`,
      `"proto":${goString(entry.proto)}`,
      `"retries":${entry.retries}`,
      `"added_at":${goString(entry.added_at)}`
    ]
    return `{${fields.join(',')}}`
  })
  return `[${elements.join(',')}]`
}

/** `gcm.Seal(nonce, nonce, plaintext, nil)`: nonce || ciphertext || tag. */
export function sealGoCache(entries: GoCacheEntry[], rawPrivateKey: Uint8Array): Buffer {
  const nonce = randomBytes(NONCE_BYTES)
  const cipher = createCipheriv('aes-256-gcm', goCacheKey(rawPrivateKey), nonce)
  const ciphertext = Buffer.concat([cipher.update(marshalGoCache(entries), 'utf8'), cipher.final()])
  return Buffer.concat([nonce, ciphertext, cipher.getAuthTag()])
}

/** `persistToDisk()`: write `.tmp` (0600), rename over the file; Go does not fsync. */
export async function writeGoCache(
  file: string,
  entries: GoCacheEntry[],
  rawPrivateKey: Uint8Array
): Promise<number> {
  const bytes = sealGoCache(entries, rawPrivateKey)
  await writeFile(`${file}.tmp`, bytes, { mode: 0o600 })
  await rename(`${file}.tmp`, file)
  return bytes.byteLength
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Go's decoder matches field names case-insensitively and ignores unknown fields; the last match wins. */
function field(object: Record<string, unknown>, name: string): unknown {
  let found: unknown
  for (const [key, value] of Object.entries(object)) {
    if (key.toLowerCase() === name.toLowerCase()) found = value
  }
  return found
}

function goStringField(value: unknown, name: string): string {
  if (value === undefined || value === null) return ''
  if (typeof value !== 'string') throw new TypeError(`json: "${name}" is not a string`)
  return value
}

function goIntField(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null) return undefined
  if (!Number.isSafeInteger(value)) throw new TypeError(`json: "${name}" is not an int`)
  return value as number
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/

/** `json.Unmarshal(plaintext, &saved)`, field by field as Go decodes `dntEntryJSON`. */
export function unmarshalGoCache(json: string): GoCacheEntry[] {
  const parsed: unknown = JSON.parse(json)
  if (parsed === null) return []
  if (!Array.isArray(parsed)) throw new TypeError('json: cannot unmarshal into []dntEntryJSON')
  return parsed.map((element: unknown, index) => {
    if (!isObject(element)) throw new TypeError(`json: element ${index} is not an object`)
    const addr = field(element, 'addr') ?? {}
    if (!isObject(addr)) throw new TypeError(`json: element ${index}: addr is not an object`)
    const addrs = field(addr, 'Addrs') ?? []
    if (!Array.isArray(addrs) || !addrs.every((item) => typeof item === 'string')) {
      throw new TypeError(`json: element ${index}: addr.Addrs is not a list of multiaddrs`)
    }
    const payload = goStringField(field(element, 'payload'), 'payload')
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload) || payload.length % 4 !== 0) {
      throw new TypeError(`json: element ${index}: payload is not base64`)
    }
    const addedAt = goStringField(field(element, 'added_at'), 'added_at') || '0001-01-01T00:00:00Z'
    if (!RFC3339.test(addedAt))
      throw new TypeError(`json: element ${index}: added_at is not RFC 3339`)
    const entry: GoCacheEntry = {
      did: goStringField(field(element, 'did'), 'did'),
      addr: { ID: goStringField(field(addr, 'ID'), 'addr.ID'), Addrs: addrs as string[] },
      user: goStringField(field(element, 'user'), 'user'),
      payload: new Uint8Array(Buffer.from(payload, 'base64')),
      proto: goStringField(field(element, 'proto'), 'proto'),
      retries: goIntField(field(element, 'retries'), 'retries') ?? 0,
      added_at: addedAt
    }
    const dataType = goIntField(field(element, 'dt'), 'dt')
    if (dataType !== undefined) entry.dt = dataType
    return entry
  })
}

/** `gcm.Open` then `json.Unmarshal`: every element in the file. Throws where Go logs and gives up. */
export function openGoCache(bytes: Uint8Array, rawPrivateKey: Uint8Array): GoCacheEntry[] {
  if (bytes.byteLength < NONCE_BYTES + TAG_BYTES) throw new Error('cache file too short')
  const decipher = createDecipheriv(
    'aes-256-gcm',
    goCacheKey(rawPrivateKey),
    bytes.subarray(0, NONCE_BYTES)
  )
  decipher.setAuthTag(bytes.subarray(bytes.byteLength - TAG_BYTES))
  const plaintext = Buffer.concat([
    decipher.update(bytes.subarray(NONCE_BYTES, bytes.byteLength - TAG_BYTES)),
    decipher.final()
  ])
  return unmarshalGoCache(plaintext.toString('utf8'))
}

/**
 * `loadFromDisk()`: what the Go node restores on start: the file's elements
 * whose protocol is critical in its `dntProtocols` map. A missing file is an
 * empty cache.
 */
export async function readGoCache(
  file: string,
  rawPrivateKey: Uint8Array,
  criticalProtocols: string[]
): Promise<GoCacheEntry[]> {
  let bytes: Buffer
  try {
    bytes = await readFile(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  const critical = new Set(criticalProtocols)
  return openGoCache(bytes, rawPrivateKey).filter((entry) => critical.has(entry.proto))
}

/** `time.Now()` as Go's JSON writes it: RFC 3339, nanoseconds, trailing zeros cut. */
export function goNow(offsetMs = 0): string {
  const now = Date.now() + offsetMs
  const nanoseconds = (now % 1000) * 1_000_000 + Number(process.hrtime.bigint() % 1_000_000n)
  const fraction = String(nanoseconds).padStart(9, '0').replace(/0+$/, '')
  return `${new Date(now).toISOString().slice(0, 19)}${fraction ? `.${fraction}` : ''}Z`
}

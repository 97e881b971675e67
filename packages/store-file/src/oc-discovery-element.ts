import type { DeadLetter, Entry, Meta } from '@dntkit/core'
import {
  formatGoTime,
  GO_ZERO_TIME,
  goScalar,
  goString,
  goTimeWritable,
  parseGoTime
} from './go-json.js'
import { type RawMember, splitObject } from './json-scan.js'

/** The fields of Go's `dntEntryJSON`, matched case-insensitively as Go's decoder does. */
const GO_FIELDS = new Set(['did', 'addr', 'dt', 'user', 'payload', 'proto', 'retries', 'added_at'])
/** The extra field dntkit adds to each element it writes (Go's decoder ignores it). */
export const DNTKIT_FIELD = 'dntkit'
const DNTKIT_FIELDS = new Set([
  'id',
  'level',
  'attempts',
  'nextAttemptAt',
  'createdAt',
  'meta',
  'lastError',
  'deadLetter',
  'delivered'
])
const BASE64_CHARACTERS = /^[A-Za-z0-9+/]*={0,2}$/

/** What an element looked like in the file, to write it back the way it was. */
export interface ElementOrigin {
  raw: string
  /** The entry as read (private copy). */
  entry: Entry
  /** Reading `raw` again gives the same id (it is in the dntkit field, or derived without a suffix). */
  rawKeepsId: boolean
  addedAt: string
  createdAt: number
  unknown: RawMember[]
  addrUnknown: RawMember[]
  dntkitUnknown: RawMember[]
}

function fail(message: string): never {
  throw new TypeError(message)
}

function stringField(value: unknown, name: string): string {
  if (value === null) return ''
  return typeof value === 'string' ? value : fail(`"${name}" must be a string`)
}

function integerField(value: unknown, name: string): number | undefined {
  if (value === null) return undefined
  return Number.isSafeInteger(value) ? (value as number) : fail(`"${name}" must be an integer`)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Raw members of `raw` whose key is in `keys` (only computed when some unknown key exists). */
function rawMembers(raw: string, keep: (key: string) => boolean): RawMember[] {
  return splitObject(raw).filter((member) => keep(member.key))
}

/**
 * Decodes one element of `dnt_cache.bin`: `raw` is its JSON text, `value`
 * the same text parsed. The entry's `id` is left empty when the element
 * carries none; the caller derives one. Throws `TypeError` saying which
 * field is wrong.
 */
export function decodeElement(
  raw: string,
  value: unknown
): { entry: Entry; origin: ElementOrigin } {
  if (!isObject(value)) fail('an element must be an object')
  let did = ''
  let user = ''
  let dataType: number | undefined
  let peer = ''
  let addrs: string[] = []
  let payload = new Uint8Array(0)
  let protocol = ''
  let retries = 0
  let addedAt = GO_ZERO_TIME
  let extra: Record<string, unknown> | undefined
  let unknown: RawMember[] = []
  let addrUnknown: RawMember[] = []
  let dntkitUnknown: RawMember[] = []
  let hasUnknown = false
  // Go's decoder matches field names case-insensitively; the last match wins
  for (const [key, field] of Object.entries(value)) {
    const name = key.toLowerCase()
    if (key === DNTKIT_FIELD) {
      if (!isObject(field)) fail('"dntkit" must be an object')
      extra = field
    } else if (!GO_FIELDS.has(name)) hasUnknown = true
    else if (name === 'did') did = stringField(field, key)
    else if (name === 'user') user = stringField(field, key)
    else if (name === 'proto') protocol = stringField(field, key)
    else if (name === 'dt') dataType = integerField(field, key)
    else if (name === 'retries') retries = integerField(field, key) ?? 0
    else if (name === 'added_at') addedAt = field === null ? GO_ZERO_TIME : stringField(field, key)
    else if (name === 'payload') {
      const text = stringField(field, key)
      if (text.length % 4 !== 0 || !BASE64_CHARACTERS.test(text))
        fail('"payload" is not standard base64')
      payload = new Uint8Array(Buffer.from(text, 'base64'))
    } else {
      // addr: go-libp2p's AddrInfo, {"ID": peer id, "Addrs": [multiaddr, ...]}
      if (field !== null && !isObject(field)) fail('"addr" must be an object')
      let addrHasUnknown = false
      for (const [innerKey, inner] of Object.entries(field ?? {})) {
        const innerName = innerKey.toLowerCase()
        if (innerName === 'id') peer = stringField(inner, 'addr.ID')
        else if (innerName === 'addrs') {
          if (
            inner !== null &&
            !(Array.isArray(inner) && inner.every((item) => typeof item === 'string'))
          ) {
            fail('"addr.Addrs" must be an array of strings')
          }
          addrs = (inner as string[] | null) ?? []
        } else addrHasUnknown = true
      }
      if (addrHasUnknown) {
        const addrRaw = rawMembers(raw, (member) => member === key).at(-1)?.rawValue ?? '{}'
        addrUnknown = rawMembers(
          addrRaw,
          (member) => !['id', 'addrs'].includes(member.toLowerCase())
        )
      }
    }
  }
  if (hasUnknown) {
    unknown = rawMembers(raw, (key) => key !== DNTKIT_FIELD && !GO_FIELDS.has(key.toLowerCase()))
  }
  if (extra !== undefined && Object.keys(extra).some((key) => !DNTKIT_FIELDS.has(key))) {
    const extraRaw = rawMembers(raw, (key) => key === DNTKIT_FIELD).at(-1)?.rawValue ?? '{}'
    dntkitUnknown = rawMembers(extraRaw, (key) => !DNTKIT_FIELDS.has(key))
  }
  let createdAt: number
  try {
    createdAt = parseGoTime(addedAt)
  } catch (error) {
    fail(`"added_at": ${(error as Error).message}`)
  }
  const entry: Entry = {
    id: '',
    peer,
    protocol,
    payload,
    level: 'critical',
    attempts: Math.max(0, retries + 1),
    createdAt,
    nextAttemptAt: createdAt
  }
  if (addrs.length > 0) entry.addrs = addrs
  if (extra === undefined) {
    entry.meta = { did, user, ...(dataType === undefined ? {} : { dataType }) }
  } else {
    applyExtra(entry, extra)
  }
  const origin: ElementOrigin = {
    raw,
    entry,
    rawKeepsId: entry.id !== '',
    addedAt,
    createdAt,
    unknown,
    addrUnknown,
    dntkitUnknown
  }
  return { entry, origin }
}

/** The dntkit field wins over the values mapped from Go's fields. */
function applyExtra(entry: Entry, extra: Record<string, unknown>): void {
  if (extra.id !== undefined) entry.id = extra.id as string
  if (extra.level !== undefined) entry.level = extra.level as string
  if (extra.attempts !== undefined) entry.attempts = extra.attempts as number
  if (extra.nextAttemptAt !== undefined) entry.nextAttemptAt = extra.nextAttemptAt as number
  if (extra.createdAt !== undefined) entry.createdAt = extra.createdAt as number
  if (extra.meta !== undefined) entry.meta = extra.meta as Meta
  if (extra.lastError !== undefined) entry.lastError = extra.lastError as string
  if (extra.deadLetter !== undefined) entry.deadLetter = extra.deadLetter as DeadLetter
  if (extra.delivered !== undefined) {
    const { at, reply } = (extra.delivered ?? {}) as { at?: unknown; reply?: unknown }
    if (typeof reply !== 'string' || reply.length % 4 !== 0 || !BASE64_CHARACTERS.test(reply)) {
      fail('"dntkit.delivered.reply" is not standard base64')
    }
    entry.delivered = { at: at as number, reply: new Uint8Array(Buffer.from(reply, 'base64')) }
  }
  // types are checked by validateEntry on the finished entry
}

function member(rawKey: string, rawValue: string): string {
  return `${rawKey}:${rawValue}`
}

function raws(members: RawMember[]): string[] {
  return members.map((item) => member(item.rawKey, item.rawValue))
}

/**
 * One element as Go's `json.Marshal` would write it, followed by the unknown
 * fields it was read with and a `dntkit` field holding what Go's format has
 * no field for. An element read from the file and not changed since is
 * written back exactly as it was read.
 */
export function encodeElement(entry: Entry, origin?: ElementOrigin): string {
  if (origin?.rawKeepsId === true && sameEntry(entry, origin.entry)) return origin.raw
  const meta = entry.meta ?? {}
  const did = typeof meta.did === 'string' ? meta.did : ''
  const user = typeof meta.user === 'string' ? meta.user : ''
  const dataType = Number.isSafeInteger(meta.dataType) ? (meta.dataType as number) : undefined
  let addedAt = GO_ZERO_TIME
  let exactTime = false
  if (origin !== undefined && origin.createdAt === entry.createdAt) addedAt = origin.addedAt
  else if (goTimeWritable(entry.createdAt)) addedAt = formatGoTime(entry.createdAt)
  else exactTime = true
  const addr = [
    member('"ID"', goString(entry.peer)),
    member('"Addrs"', `[${(entry.addrs ?? []).map(goString).join(',')}]`),
    ...raws(origin?.addrUnknown ?? [])
  ]
  const extra = [
    member('"id"', goString(entry.id)),
    member('"level"', goString(entry.level)),
    member('"attempts"', JSON.stringify(entry.attempts)),
    member('"nextAttemptAt"', JSON.stringify(entry.nextAttemptAt))
  ]
  if (exactTime) extra.push(member('"createdAt"', JSON.stringify(entry.createdAt)))
  if (entry.meta !== undefined) {
    const fields = Object.entries(entry.meta).map(([key, value]) =>
      member(goString(key), goScalar(value))
    )
    extra.push(member('"meta"', `{${fields.join(',')}}`))
  }
  if (entry.lastError !== undefined) extra.push(member('"lastError"', goString(entry.lastError)))
  if (entry.deadLetter !== undefined) {
    const { reason, at } = entry.deadLetter
    extra.push(member('"deadLetter"', `{"reason":${goString(reason)},"at":${JSON.stringify(at)}}`))
  }
  if (entry.delivered !== undefined) {
    const { at, reply } = entry.delivered
    const base64 = Buffer.from(reply).toString('base64')
    extra.push(member('"delivered"', `{"at":${JSON.stringify(at)},"reply":"${base64}"}`))
  }
  extra.push(...raws(origin?.dntkitUnknown ?? []))
  const fields = [
    member('"did"', goString(did)),
    member('"addr"', `{${addr.join(',')}}`),
    ...(dataType === undefined ? [] : [member('"dt"', String(dataType))]),
    member('"user"', goString(user)),
    member(
      '"payload"',
      `"${Buffer.from(entry.payload.buffer, entry.payload.byteOffset, entry.payload.byteLength).toString('base64')}"`
    ),
    member('"proto"', goString(entry.protocol)),
    member('"retries"', String(Math.max(0, entry.attempts - 1))),
    member('"added_at"', goString(addedAt)),
    ...raws(origin?.unknown ?? []),
    member(`"${DNTKIT_FIELD}"`, `{${extra.join(',')}}`)
  ]
  return `{${fields.join(',')}}`
}

function sameMeta(a: Meta | undefined, b: Meta | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  const keys = Object.keys(a)
  return (
    keys.length === Object.keys(b).length &&
    keys.every((key) => Object.is(a[key], b[key]) && key in b)
  )
}

/** Field-by-field equality of two entries. */
export function sameEntry(a: Entry, b: Entry): boolean {
  return (
    a.id === b.id &&
    a.peer === b.peer &&
    a.protocol === b.protocol &&
    a.level === b.level &&
    a.attempts === b.attempts &&
    Object.is(a.createdAt, b.createdAt) &&
    Object.is(a.nextAttemptAt, b.nextAttemptAt) &&
    a.lastError === b.lastError &&
    a.deadLetter?.reason === b.deadLetter?.reason &&
    a.deadLetter?.at === b.deadLetter?.at &&
    a.delivered?.at === b.delivered?.at &&
    Buffer.from(a.delivered?.reply ?? []).equals(Buffer.from(b.delivered?.reply ?? [])) &&
    (a.addrs ?? []).length === (b.addrs ?? []).length &&
    (a.addrs ?? []).every((addr, index) => addr === b.addrs?.[index]) &&
    sameMeta(a.meta, b.meta) &&
    Buffer.from(a.payload).equals(Buffer.from(b.payload))
  )
}

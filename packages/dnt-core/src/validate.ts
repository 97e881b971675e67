import type { Entry, Message } from './types.js'

/**
 * Longest message id, in UTF-8 bytes: `send()` refuses longer ones, and so
 * does a receiver (it bounds the memory of its dedupe window). The one
 * definition of the rule; `@dntkit/transport-libp2p` uses it too.
 */
export const MAX_ID_BYTES = 256

/**
 * Longest id of an entry a store keeps, in UTF-8 bytes: a message id, or a
 * receiver's dedupe record `<sender peer id>/<message id>` (a peer id string
 * and a message id of `MAX_ID_BYTES` fit with room to spare).
 */
export const MAX_STORE_ID_BYTES = 1024

/** Length of `text` in UTF-8 bytes, without encoding it. */
export function utf8Length(text: string): number {
  let length = 0
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index)
    if (code < 0x80) length += 1
    else if (code < 0x800) length += 2
    else if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        length += 4
        index++
      } else length += 3
    } else length += 3
  }
  return length
}

function nonEmptyString(value: unknown, name: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${name} must be a non-empty string`)
  }
}

function isMetaValue(value: unknown): boolean {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  )
}

/**
 * Throws `TypeError` naming the first field of `message` that is wrong; an id
 * may have at most `maxIdBytes` UTF-8 bytes (default `MAX_ID_BYTES`).
 */
export function validateMessage(
  message: Message,
  name = 'message',
  maxIdBytes = MAX_ID_BYTES
): void {
  if (message == null || typeof message !== 'object')
    throw new TypeError(`${name} must be an object`)
  nonEmptyString(message.peer, `${name}.peer`)
  nonEmptyString(message.protocol, `${name}.protocol`)
  if (!(message.payload instanceof Uint8Array)) {
    throw new TypeError(`${name}.payload must be a Uint8Array`)
  }
  if (message.id !== undefined) {
    nonEmptyString(message.id, `${name}.id`)
    const bytes = utf8Length(message.id)
    if (bytes > maxIdBytes) {
      throw new TypeError(
        `${name}.id is ${bytes} bytes in UTF-8; at most ${maxIdBytes} are allowed`
      )
    }
  }
  if (message.addrs !== undefined) {
    if (!Array.isArray(message.addrs))
      throw new TypeError(`${name}.addrs must be an array of strings`)
    message.addrs.forEach((addr, index) => {
      nonEmptyString(addr, `${name}.addrs[${index}]`)
    })
  }
  if (message.meta !== undefined) {
    if (message.meta === null || typeof message.meta !== 'object' || Array.isArray(message.meta)) {
      throw new TypeError(`${name}.meta must be a plain object`)
    }
    for (const [key, value] of Object.entries(message.meta)) {
      if (!isMetaValue(value)) {
        throw new TypeError(
          `${name}.meta.${key} must be a string, a finite number, a boolean or null`
        )
      }
    }
  }
}

/**
 * Throws `TypeError` naming the first field of `entry` that is wrong. Its id
 * may have up to `MAX_STORE_ID_BYTES` (a store also keeps a receiver's dedupe
 * records, whose ids are `<peer id>/<message id>`).
 */
export function validateEntry(entry: Entry, name = 'entry'): void {
  validateMessage(entry, name, MAX_STORE_ID_BYTES)
  nonEmptyString(entry.id, `${name}.id`)
  nonEmptyString(entry.level, `${name}.level`)
  if (!Number.isSafeInteger(entry.attempts) || entry.attempts < 0) {
    throw new TypeError(`${name}.attempts must be an integer >= 0`)
  }
  for (const field of ['createdAt', 'nextAttemptAt'] as const) {
    if (typeof entry[field] !== 'number' || !Number.isFinite(entry[field])) {
      throw new TypeError(`${name}.${field} must be a finite number`)
    }
  }
  if (entry.lastError !== undefined && typeof entry.lastError !== 'string') {
    throw new TypeError(`${name}.lastError must be a string`)
  }
  if (entry.delivered !== undefined) {
    const { at, reply } = entry.delivered ?? {}
    if (typeof at !== 'number' || !Number.isFinite(at) || !(reply instanceof Uint8Array)) {
      throw new TypeError(`${name}.delivered must be { at: number, reply: Uint8Array }`)
    }
    if (entry.deadLetter !== undefined) {
      throw new TypeError(`${name} cannot be both delivered and a dead letter`)
    }
  }
  if (entry.deadLetter !== undefined) {
    const { reason, at } = entry.deadLetter ?? {}
    const known =
      reason === 'exhausted' ||
      reason === 'expired' ||
      reason === 'rejected' ||
      reason === 'undeliverable'
    if (!known || typeof at !== 'number' || !Number.isFinite(at)) {
      throw new TypeError(
        `${name}.deadLetter must be { reason: "exhausted" | "expired" | "rejected" | "undeliverable", at: number }`
      )
    }
  }
}

/** A deep copy that shares nothing mutable with `entry`. */
export function cloneEntry(entry: Entry): Entry {
  const copy: Entry = {
    id: entry.id,
    peer: entry.peer,
    protocol: entry.protocol,
    payload: entry.payload.slice(),
    level: entry.level,
    attempts: entry.attempts,
    createdAt: entry.createdAt,
    nextAttemptAt: entry.nextAttemptAt
  }
  if (entry.addrs !== undefined) copy.addrs = [...entry.addrs]
  if (entry.meta !== undefined) copy.meta = { ...entry.meta }
  if (entry.lastError !== undefined) copy.lastError = entry.lastError
  if (entry.deadLetter !== undefined) copy.deadLetter = { ...entry.deadLetter }
  if (entry.delivered !== undefined) {
    copy.delivered = { at: entry.delivered.at, reply: entry.delivered.reply.slice() }
  }
  return copy
}

/** Validates a store batch; returns its puts and deletes as arrays. */
export function validateBatch(batch: { put?: Entry[]; delete?: string[] }): {
  put: Entry[]
  delete: string[]
} {
  if (batch == null || typeof batch !== 'object') throw new TypeError('batch must be an object')
  const put = batch.put ?? []
  const remove = batch.delete ?? []
  if (!Array.isArray(put)) throw new TypeError('batch.put must be an array')
  if (!Array.isArray(remove)) throw new TypeError('batch.delete must be an array')
  put.forEach((entry, index) => {
    validateEntry(entry, `batch.put[${index}]`)
  })
  remove.forEach((id, index) => {
    nonEmptyString(id, `batch.delete[${index}]`)
  })
  return { put, delete: remove }
}

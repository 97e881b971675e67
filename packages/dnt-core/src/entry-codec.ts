import { ByteReader, ByteWriter } from './bytes.js'
import type { DeadLetter, Entry, Meta } from './types.js'
import { validateEntry } from './validate.js'

const VERSION = 1
const HAS_ADDRS = 1
const HAS_META = 2
const HAS_LAST_ERROR = 4
const HAS_DEAD_LETTER = 8
const HAS_REPLY = 16
const KNOWN_FLAGS = HAS_ADDRS | HAS_META | HAS_LAST_ERROR | HAS_DEAD_LETTER | HAS_REPLY
const DEAD_LETTER_REASONS: Array<DeadLetter['reason']> = [
  'exhausted',
  'expired',
  'rejected',
  'undeliverable'
]

/**
 * The compact binary form of an entry that the stores encrypt:
 *
 * ```
 * u8 version (1) | u8 flags | id | peer | protocol | level        (strings: varint length + UTF-8)
 * varint attempts | f64 createdAt | f64 nextAttemptAt            (f64: big-endian IEEE 754)
 * [varint count, count x string addrs]        if flags & 1
 * [string JSON of meta]                       if flags & 2
 * [string lastError]                          if flags & 4
 * [u8 reason (0 exhausted, 1 expired, 2 rejected, 3 undeliverable), f64 at] if flags & 8
 * [f64 delivered at | varint reply length | reply bytes]    if flags & 16
 * varint payload length | payload bytes
 * ```
 *
 * Readers before flag 16 existed refuse an entry that has it.
 */
export function encodeEntry(entry: Entry): Uint8Array {
  const writer = new ByteWriter(64 + entry.payload.byteLength + entry.id.length + entry.peer.length)
  let flags = 0
  if (entry.addrs != null && entry.addrs.length > 0) flags |= HAS_ADDRS
  if (entry.meta != null) flags |= HAS_META
  if (entry.lastError != null) flags |= HAS_LAST_ERROR
  if (entry.deadLetter != null) flags |= HAS_DEAD_LETTER
  if (entry.delivered != null) flags |= HAS_REPLY
  writer.uint8(VERSION).uint8(flags)
  writer.string(entry.id).string(entry.peer).string(entry.protocol).string(entry.level)
  writer.varint(entry.attempts).float64(entry.createdAt).float64(entry.nextAttemptAt)
  if ((flags & HAS_ADDRS) !== 0) {
    const addrs = entry.addrs as string[]
    writer.varint(addrs.length)
    for (const addr of addrs) writer.string(addr)
  }
  if ((flags & HAS_META) !== 0) writer.string(JSON.stringify(entry.meta))
  if ((flags & HAS_LAST_ERROR) !== 0) writer.string(entry.lastError as string)
  if (entry.deadLetter != null) {
    writer.uint8(DEAD_LETTER_REASONS.indexOf(entry.deadLetter.reason)).float64(entry.deadLetter.at)
  }
  if (entry.delivered != null) writer.float64(entry.delivered.at).bytes(entry.delivered.reply)
  writer.bytes(entry.payload)
  return writer.finish()
}

/** Reverses `encodeEntry`; throws `RangeError` describing what is malformed. */
export function decodeEntry(bytes: Uint8Array): Entry {
  const reader = new ByteReader(bytes)
  const version = reader.uint8()
  if (version !== VERSION) throw new RangeError(`unknown entry encoding version ${version}`)
  const flags = reader.uint8()
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new RangeError(`unknown entry flags ${flags}`)
  const entry: Entry = {
    id: reader.string(),
    peer: reader.string(),
    protocol: reader.string(),
    level: reader.string(),
    attempts: reader.varint(),
    createdAt: reader.float64(),
    nextAttemptAt: reader.float64(),
    payload: new Uint8Array(0)
  }
  if ((flags & HAS_ADDRS) !== 0) {
    const count = reader.varint()
    if (count > reader.remaining) throw new RangeError(`address count ${count} exceeds the record`)
    entry.addrs = []
    for (let index = 0; index < count; index++) entry.addrs.push(reader.string())
  }
  if ((flags & HAS_META) !== 0) {
    let meta: unknown
    try {
      meta = JSON.parse(reader.string())
    } catch {
      throw new RangeError('entry meta is not valid JSON')
    }
    entry.meta = meta as Meta
  }
  if ((flags & HAS_LAST_ERROR) !== 0) entry.lastError = reader.string()
  if ((flags & HAS_DEAD_LETTER) !== 0) {
    const reason = reader.uint8()
    const name = DEAD_LETTER_REASONS[reason]
    if (name === undefined) throw new RangeError(`unknown dead-letter reason ${reason}`)
    entry.deadLetter = { reason: name, at: reader.float64() }
  }
  if ((flags & HAS_REPLY) !== 0) {
    const at = reader.float64()
    entry.delivered = { at, reply: reader.bytes().slice() }
  }
  entry.payload = reader.bytes().slice()
  if (reader.remaining !== 0)
    throw new RangeError(`${reader.remaining} unexpected bytes after the entry`)
  try {
    validateEntry(entry)
  } catch (error) {
    throw new RangeError(`decoded entry is invalid: ${(error as Error).message}`)
  }
  return entry
}

/**
 * Keys inside the store's sublevel (all binary):
 *
 * - `meta` (the 4 UTF-8 bytes): the marker record
 * - `0x65` ('e') + u64 big-endian sequence: one entry; sequences grow with each first put
 * - `0x71` ('q') + the original key: a value set aside by `quarantine: true`
 */
const MARKER = new TextEncoder().encode('meta')
const ENTRY_TAG = 0x65
const QUARANTINE_TAG = 0x71
const ENTRY_KEY_BYTES = 9

export interface KeyRange {
  gte: Uint8Array
  lt: Uint8Array
}

export function markerKey(): Uint8Array {
  return MARKER.slice()
}

/** The key of the entry with this sequence number. */
export function entryKey(sequence: number): Uint8Array {
  const key = new Uint8Array(ENTRY_KEY_BYTES)
  key[0] = ENTRY_TAG
  const view = new DataView(key.buffer)
  view.setUint32(1, Math.floor(sequence / 0x1_0000_0000))
  view.setUint32(5, sequence >>> 0)
  return key
}

/** The sequence number of an entry key, or `undefined` when `key` is not one. */
export function entrySequence(key: Uint8Array): number | undefined {
  if (key.byteLength !== ENTRY_KEY_BYTES || key[0] !== ENTRY_TAG) return undefined
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength)
  const sequence = view.getUint32(1) * 0x1_0000_0000 + view.getUint32(5)
  return Number.isSafeInteger(sequence) ? sequence : undefined
}

export function quarantineKey(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.byteLength + 1)
  out[0] = QUARANTINE_TAG
  out.set(key, 1)
  return out
}

/** The original key of a quarantine key. */
export function quarantinedKey(key: Uint8Array): Uint8Array {
  return key.subarray(1)
}

export function entryRange(): KeyRange {
  return { gte: Uint8Array.of(ENTRY_TAG), lt: Uint8Array.of(ENTRY_TAG + 1) }
}

export function quarantineRange(): KeyRange {
  return { gte: Uint8Array.of(QUARANTINE_TAG), lt: Uint8Array.of(QUARANTINE_TAG + 1) }
}

/** How keys appear in messages: `e:42` for entry 42, `meta`, otherwise hex. */
export function describeKey(key: Uint8Array): string {
  const sequence = entrySequence(key)
  if (sequence !== undefined) return `e:${sequence}`
  if (key.byteLength === MARKER.byteLength && key.every((byte, index) => byte === MARKER[index])) {
    return 'meta'
  }
  if (key[0] === QUARANTINE_TAG) return `q:${describeKey(key.subarray(1))}`
  return `0x${Array.from(key, (byte) => byte.toString(16).padStart(2, '0')).join('')}`
}

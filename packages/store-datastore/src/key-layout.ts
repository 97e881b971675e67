import { Key } from 'interface-datastore'
import { SEQUENCE_DIGITS } from './constants.js'

const SEQUENCE_PATTERN = /^[0-9a-f]{16}$/

/**
 * The datastore keys of a store under `prefix` (default `/dntkit/outbox`):
 *
 * - `<prefix>/meta`: the marker record
 * - `<prefix>/e/<sequence>`: one entry; the sequence is 16 lowercase
 *   hexadecimal digits (a u64), given when an id is first put, so key order
 *   is first-put order
 */
export class KeyLayout {
  readonly marker: Key
  /** The query prefix of every entry key. */
  readonly entries: string

  constructor(readonly prefix: string) {
    this.marker = new Key(`${prefix}/meta`)
    this.entries = `${prefix}/e/`
  }

  entry(sequence: number): Key {
    return new Key(`${this.entries}${sequence.toString(16).padStart(SEQUENCE_DIGITS, '0')}`)
  }

  /** The sequence of an entry key, or `undefined` when `key` is not one. */
  sequence(key: Key): number | undefined {
    const text = key.toString()
    if (!text.startsWith(this.entries)) return undefined
    const digits = text.slice(this.entries.length)
    if (!SEQUENCE_PATTERN.test(digits)) return undefined
    const sequence = Number.parseInt(digits, 16)
    return Number.isSafeInteger(sequence) ? sequence : undefined
  }

  /** How messages name a key: `e:42` for entry 42, otherwise the key itself. */
  describe(key: Key): string {
    const sequence = this.sequence(key)
    return sequence === undefined ? key.toString() : `e:${sequence}`
  }
}

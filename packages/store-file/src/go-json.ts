/**
 * The parts of Go's `encoding/json` and `time` that `dnt_cache.bin` depends
 * on, reproduced exactly so that what we write is what Go would write.
 */

const HEX = '0123456789abcdef'
const SHORT_ESCAPES: Record<number, string> = {
  34: '\\"',
  92: '\\\\',
  8: '\\b',
  12: '\\f',
  10: '\\n',
  13: '\\r',
  9: '\\t'
}

function unicodeEscape(code: number): string {
  return `\\u${HEX[code >> 12]}${HEX[(code >> 8) & 15]}${HEX[(code >> 4) & 15]}${HEX[code & 15]}`
}

/** The escape Go writes for the UTF-16 unit at `index`, or undefined when it is written as is. */
function escapeAt(value: string, index: number): string | undefined {
  const code = value.charCodeAt(index)
  if (
    code >= 0x20 &&
    code !== 0x22 &&
    code !== 0x5c &&
    code !== 0x3c &&
    code !== 0x3e &&
    code !== 0x26
  ) {
    if (code < 0x2028 || (code > 0x2029 && code < 0xd800) || code > 0xdfff) return undefined
    if (code === 0x2028 || code === 0x2029) return unicodeEscape(code)
    // surrogates: a pair is one character; a lone one is not valid UTF-8 and Go writes U+FFFD
    const pairHigh = code <= 0xdbff && isLow(value.charCodeAt(index + 1))
    const pairLow = code >= 0xdc00 && index > 0 && isHigh(value.charCodeAt(index - 1))
    return pairHigh || pairLow ? undefined : '\\ufffd'
  }
  return SHORT_ESCAPES[code] ?? unicodeEscape(code)
}

function isHigh(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}

function isLow(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff
}

/** A JSON string literal exactly as Go's `json.Marshal` writes it (<, >, &, U+2028, U+2029 escaped). */
export function goString(value: string): string {
  let out = '"'
  let start = 0
  for (let index = 0; index < value.length; index++) {
    const escaped = escapeAt(value, index)
    if (escaped === undefined) continue
    out += value.slice(start, index) + escaped
    start = index + 1
  }
  return `${out}${value.slice(start)}"`
}

/** Any JSON value of `Message.meta` (string, finite number, boolean, null), Go-escaped. */
export function goScalar(value: string | number | boolean | null): string {
  return typeof value === 'string' ? goString(value) : JSON.stringify(value)
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0')
}

/** Earliest and latest milliseconds Go's Time.MarshalJSON accepts (years 0000 to 9999). */
const YEAR_ZERO = (() => {
  const date = new Date(0)
  date.setUTCFullYear(0, 0, 1)
  return date.getTime()
})()
const YEAR_10000 = (() => {
  const date = new Date(0)
  date.setUTCFullYear(10000, 0, 1)
  return date.getTime()
})()

/** True when `ms` is a whole millisecond Go can write as an RFC 3339 time. */
export function goTimeWritable(ms: number): boolean {
  return Number.isInteger(ms) && ms >= YEAR_ZERO && ms < YEAR_10000
}

/**
 * A UTC time as Go's `time.Time.MarshalJSON` writes it (RFC 3339 with the
 * fraction's trailing zeros removed): `2024-05-01T08:00:00.12Z`.
 */
export function formatGoTime(ms: number): string {
  if (!goTimeWritable(ms)) throw new RangeError(`time ${ms} is outside what Go can write`)
  const date = new Date(ms)
  const fraction = ((ms % 1000) + 1000) % 1000
  const digits = fraction === 0 ? '' : `.${pad(fraction, 3).replace(/0+$/, '')}`
  return (
    `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}` +
    `T${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}${digits}Z`
  )
}

/** Go's zero `time.Time`, which a `null` added_at decodes to. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z'

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/

/** Milliseconds since the epoch (nanoseconds truncated) of an RFC 3339 time; throws `RangeError`. */
export function parseGoTime(text: string): number {
  const match = RFC3339.exec(text)
  if (match == null) throw new RangeError(`"${text}" is not an RFC 3339 time`)
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as number[]
  const daysInMonth = new Date(Date.UTC(2000, month as number, 0)).getUTCDate()
  const leap =
    (year as number) % 4 === 0 && ((year as number) % 100 !== 0 || (year as number) % 400 === 0)
  const maxDay = month === 2 ? (leap ? 29 : 28) : daysInMonth
  if (
    (month as number) < 1 ||
    (month as number) > 12 ||
    (day as number) < 1 ||
    (day as number) > maxDay ||
    (hour as number) > 23 ||
    (minute as number) > 59 ||
    (second as number) > 59
  ) {
    throw new RangeError(`"${text}" is not a valid date and time`)
  }
  let offset = 0
  if (match[8] === undefined) {
    const hours = Number(match[10])
    const minutes = Number(match[11])
    if (hours > 23 || minutes > 59)
      throw new RangeError(`"${text}" has an invalid time zone offset`)
    offset = (match[9] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000
  }
  const date = new Date(0)
  date.setUTCFullYear(year as number, (month as number) - 1, day as number)
  date.setUTCHours(hour as number, minute as number, second as number, 0)
  const nanoseconds = Number((match[7] ?? '').padEnd(9, '0') || '0')
  return date.getTime() - offset + Math.floor(nanoseconds / 1_000_000)
}

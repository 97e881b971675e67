// Crockford base32, as ULID uses it: ids sort lexicographically by creation time.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const CODES = Array.from(ALPHABET, (char) => char.charCodeAt(0))
const TIME_LENGTH = 10
const RANDOM_LENGTH = 16

let lastTime = -1
let lastRandom: number[] = []

function randomDigits(): number[] {
  const bytes = new Uint8Array(RANDOM_LENGTH)
  globalThis.crypto.getRandomValues(bytes)
  return Array.from(bytes, (byte) => byte & 31)
}

/**
 * A 26-character, time-sortable, unique id (ULID layout: 48 bits of
 * milliseconds, then 80 random bits). Ids made in the same millisecond are
 * strictly increasing, so sorting ids gives creation order.
 */
export function createId(now: number = Date.now()): string {
  let random: number[]
  if (now <= lastTime) {
    // same (or earlier) millisecond: increment the previous random part
    random = lastRandom.slice()
    let index = RANDOM_LENGTH - 1
    while (index >= 0 && random[index] === 31) {
      random[index] = 0
      index--
    }
    if (index < 0) throw new RangeError('id space of this millisecond exhausted')
    random[index] = (random[index] ?? 0) + 1
    now = lastTime
  } else {
    random = randomDigits()
    lastTime = now
  }
  lastRandom = random
  const codes = new Array<number>(TIME_LENGTH + RANDOM_LENGTH)
  let remaining = Math.floor(now)
  for (let index = TIME_LENGTH - 1; index >= 0; index--) {
    codes[index] = CODES[remaining % 32] as number
    remaining = Math.floor(remaining / 32)
  }
  for (let index = 0; index < RANDOM_LENGTH; index++) {
    codes[TIME_LENGTH + index] = CODES[random[index] as number] as number
  }
  // one flat string (concatenation would leave a tree of cons strings per id)
  return String.fromCharCode(...codes)
}

/** The creation time encoded in an id made by `createId`, or `undefined` for other ids. */
export function idTime(id: string): number | undefined {
  if (id.length !== TIME_LENGTH + RANDOM_LENGTH) return undefined
  let time = 0
  for (let index = 0; index < TIME_LENGTH; index++) {
    const digit = ALPHABET.indexOf(id[index] ?? '')
    if (digit < 0) return undefined
    time = time * 32 + digit
  }
  return time
}

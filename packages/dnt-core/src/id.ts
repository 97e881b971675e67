// Crockford base32, as ULID uses it: ids sort lexicographically by creation time.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
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
  let time = ''
  let remaining = Math.floor(now)
  for (let index = 0; index < TIME_LENGTH; index++) {
    time = ALPHABET[remaining % 32] + time
    remaining = Math.floor(remaining / 32)
  }
  let suffix = ''
  for (const digit of random) suffix += ALPHABET[digit]
  return time + suffix
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

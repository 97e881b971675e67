/**
 * Splits JSON text that is known to be valid (JSON.parse accepted it) into
 * the raw text of its parts, so values can be kept exactly as written.
 */

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09
}

function skipWhitespace(text: string, index: number): number {
  while (index < text.length && isWhitespace(text.charCodeAt(index))) index++
  return index
}

function skipString(text: string, index: number): number {
  // text[index] is the opening quote
  index++
  for (;;) {
    const code = text.charCodeAt(index)
    if (code === 0x5c) index += 2
    else if (code === 0x22) return index + 1
    else index++
  }
}

/** Index just after the value starting at `index`. */
function skipValue(text: string, index: number): number {
  const code = text.charCodeAt(index)
  if (code === 0x22) return skipString(text, index)
  if (code === 0x7b || code === 0x5b) {
    let depth = 0
    while (index < text.length) {
      const current = text.charCodeAt(index)
      if (current === 0x22) {
        index = skipString(text, index)
        continue
      }
      if (current === 0x7b || current === 0x5b) depth++
      else if (current === 0x7d || current === 0x5d) {
        depth--
        if (depth === 0) return index + 1
      }
      index++
    }
    return index
  }
  // number or literal
  while (index < text.length) {
    const current = text.charCodeAt(index)
    if (current === 0x2c || current === 0x5d || current === 0x7d || isWhitespace(current)) break
    index++
  }
  return index
}

/** Raw texts of the elements of a JSON array (`null` gives an empty list). */
export function splitArray(text: string): string[] {
  let index = skipWhitespace(text, 0)
  if (text.startsWith('null', index)) return []
  if (text.charCodeAt(index) !== 0x5b) throw new TypeError('expected a JSON array')
  const elements: string[] = []
  index = skipWhitespace(text, index + 1)
  if (text.charCodeAt(index) === 0x5d) return elements
  for (;;) {
    const end = skipValue(text, index)
    elements.push(text.slice(index, end))
    index = skipWhitespace(text, end)
    if (text.charCodeAt(index) !== 0x2c) return elements
    index = skipWhitespace(text, index + 1)
  }
}

/** A member of a JSON object: its key (decoded), the key's raw text and the value's raw text. */
export interface RawMember {
  key: string
  rawKey: string
  rawValue: string
}

/** Members of a JSON object in order (duplicates kept); `null` gives none. */
export function splitObject(text: string): RawMember[] {
  let index = skipWhitespace(text, 0)
  if (text.startsWith('null', index)) return []
  if (text.charCodeAt(index) !== 0x7b) throw new TypeError('expected a JSON object')
  const members: RawMember[] = []
  index = skipWhitespace(text, index + 1)
  if (text.charCodeAt(index) === 0x7d) return members
  for (;;) {
    const keyEnd = skipString(text, index)
    const rawKey = text.slice(index, keyEnd)
    index = skipWhitespace(text, keyEnd)
    index = skipWhitespace(text, index + 1) // the colon
    const valueEnd = skipValue(text, index)
    members.push({
      key: JSON.parse(rawKey) as string,
      rawKey,
      rawValue: text.slice(index, valueEnd)
    })
    index = skipWhitespace(text, valueEnd)
    if (text.charCodeAt(index) !== 0x2c) return members
    index = skipWhitespace(text, index + 1)
  }
}

import type { DeadLetter, Entry } from '@dntkit/core'

/** `1.2 kB`, `3.4 MB`: decimal units, as `ls -h --si` prints them. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 'B'
  for (const next of units) {
    if (value < 1000) break
    value /= 1000
    unit = next
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`
}

/** `850ms`, `12s`, `4m05s`, `3h12m`, `2d04h`. */
export function formatAge(milliseconds: number): string {
  const value = Math.max(0, Math.round(milliseconds))
  if (value < 1000) return `${value}ms`
  const seconds = Math.floor(value / 1000)
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return `${hours}h${String(minutes % 60).padStart(2, '0')}m`
  return `${Math.floor(hours / 24)}d${String(hours % 24).padStart(2, '0')}h`
}

/** Cuts `text` to `width` characters, marking the cut with `…`. */
export function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`
}

/**
 * A `lastError` condensed for a table cell: without the error's name and code
 * and without "message ID to PEER (PROTOCOL):", which the other columns show.
 */
export function briefError(text: string, width: number): string {
  const brief = text
    .replace(/^\w+ \(DNT_[A-Z_]+\): /, '')
    .replace(/message \S+ to \S+ \([^)]*\): /, '')
  return truncate(brief, width)
}

/** A peer id shortened for a table: `12D3KooW…Xy9z`. */
export function shortPeer(peer: string): string {
  return peer.length <= 20 ? peer : `${peer.slice(0, 8)}…${peer.slice(-6)}`
}

/** A plain-text table: a header row, aligned columns, numbers to the right. */
export function table(headers: string[], rows: string[][], alignRight: number[] = []): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length))
  )
  const render = (cells: string[]): string =>
    cells
      .map((cell, column) => {
        const width = widths[column] as number
        return alignRight.includes(column) ? cell.padStart(width) : cell.padEnd(width)
      })
      .join('  ')
      .trimEnd()
  return [render(headers), ...rows.map(render)].join('\n')
}

/** The text of a payload when it is valid UTF-8, else `undefined`. */
export function utf8Text(payload: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(payload)
  } catch {
    return undefined
  }
}

/** A time as `--json` prints it: whole milliseconds since the epoch (times may be fractional inside). */
export function jsonTime(milliseconds: number): number {
  return Math.round(milliseconds)
}

/** A time as a person reads it in `--json`: ISO 8601 in UTC, to the millisecond (null past year 275760). */
export function isoTime(milliseconds: number): string | null {
  const date = new Date(jsonTime(milliseconds))
  return Number.isNaN(date.getTime()) ? null : date.toISOString()
}

/** What to do about a dead letter, by why it was dead-lettered. */
export const DEAD_LETTER_ADVICE: Record<DeadLetter['reason'], string> = {
  exhausted:
    'out of retries: once the peer is reachable, `dnt dead --requeue ID` and `dnt flush` send it again',
  expired: 'its time to live passed: `dnt dead --requeue ID` sends it again if it still matters',
  rejected:
    'the receiving application refused it (see its error): requeueing sends the same message again',
  undeliverable:
    'this node cannot deliver it as configured (see its error: a connection gater that denies the dial, or no transport for its address): fix that, then `dnt dead --requeue ID`'
}

/** A `lastError` without the error's name and code, whole (for a line of its own). */
export function plainError(text: string): string {
  return text.replace(/^\w+ \(DNT_[A-Z_]+\): /, '')
}

/**
 * An entry as `--json` prints it: every field, times as whole milliseconds
 * since the epoch plus the same time in ISO 8601 (`createdAtIso`,
 * `nextAttemptAtIso`, `deadLetter.atIso`, `delivered.atIso`), the payload as
 * base64 (and as text in `data` when it is UTF-8); a dead letter's `advice`
 * says what to do; a delivered entry that holds its reply has
 * `delivered: { at, atIso, reply: { data?, base64 } }`.
 */
export function entryToJson(entry: Entry): Record<string, unknown> {
  const json: Record<string, unknown> = {
    id: entry.id,
    peer: entry.peer,
    addrs: entry.addrs ?? [],
    protocol: entry.protocol,
    level: entry.level,
    attempts: entry.attempts,
    createdAt: jsonTime(entry.createdAt),
    createdAtIso: isoTime(entry.createdAt),
    nextAttemptAt: jsonTime(entry.nextAttemptAt),
    nextAttemptAtIso: isoTime(entry.nextAttemptAt),
    size: entry.payload.byteLength
  }
  if (entry.lastError !== undefined) json.lastError = entry.lastError
  if (entry.meta !== undefined) json.meta = entry.meta
  if (entry.deadLetter !== undefined) {
    const { reason, at } = entry.deadLetter
    json.deadLetter = {
      reason,
      at: jsonTime(at),
      atIso: isoTime(at),
      advice: DEAD_LETTER_ADVICE[reason]
    }
  }
  if (entry.delivered !== undefined) {
    const { at, reply } = entry.delivered
    const text = utf8Text(reply)
    json.delivered = {
      at: jsonTime(at),
      atIso: isoTime(at),
      reply: {
        ...(text === undefined ? {} : { data: text }),
        base64: Buffer.from(reply).toString('base64')
      }
    }
  }
  const text = utf8Text(entry.payload)
  if (text !== undefined) json.data = text
  json.base64 = Buffer.from(entry.payload).toString('base64')
  return json
}

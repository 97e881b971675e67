import { existsSync, readFileSync } from 'node:fs'

/** One received message, from `dnt listen --jsonl` or a chaos receiver's JSONL. */
export interface Received {
  data: string
  from: string
  id?: string
  mode?: string
}

/** The records of a JSONL file (none when it does not exist yet); a torn last line is ignored. */
export function readReceived(path: string): Received[] {
  if (!existsSync(path)) return []
  const records: Received[] = []
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue
    try {
      records.push(JSON.parse(line) as Received)
    } catch {
      // only a line cut by a SIGKILL mid-write can be torn, and only the last one
    }
  }
  return records
}

/** How often each payload arrived. */
export function tally(records: Received[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const record of records) counts.set(record.data, (counts.get(record.data) ?? 0) + 1)
  return counts
}

/** What a delivery check found: payloads never received, received more than once, or never sent. */
export interface Verdict {
  missing: string[]
  duplicated: string[]
  unexpected: string[]
}

export function verdict(expected: Iterable<string>, records: Received[]): Verdict {
  const counts = tally(records)
  const wanted = new Set(expected)
  const missing: string[] = []
  for (const data of wanted) if (!counts.has(data)) missing.push(data)
  const duplicated: string[] = []
  const unexpected: string[] = []
  for (const [data, count] of counts) {
    if (!wanted.has(data)) unexpected.push(data)
    else if (count > 1) duplicated.push(data)
  }
  return { missing, duplicated, unexpected }
}

/**
 * FIFO per sender: the first arrivals of a sender's messages, whose payloads
 * are `<sender>/<sequence>`, come in increasing sequence order. Returns the
 * first violation, or undefined.
 */
export function fifoViolation(records: Received[]): string | undefined {
  const last = new Map<string, number>()
  const seen = new Set<string>()
  for (const record of records) {
    if (seen.has(record.data)) continue
    seen.add(record.data)
    const cut = record.data.lastIndexOf('/')
    const sender = record.data.slice(0, cut)
    const sequence = Number(record.data.slice(cut + 1))
    const previous = last.get(sender) ?? -1
    if (sequence <= previous) return `${sender}: ${sequence} arrived after ${previous}`
    last.set(sender, sequence)
  }
  return undefined
}

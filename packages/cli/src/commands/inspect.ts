import type { Entry } from '@dntkit/core'
import { requiredFlag } from '../arguments.js'
import { type Command, printJson, say } from '../command.js'
import { EXIT_OK, TABLE_ERROR_WIDTH } from '../constants.js'
import { briefError, entryToJson, formatAge, formatBytes, shortPeer, table } from '../format.js'
import { readKeyFile } from '../key-file.js'
import { JSON_FLAG, KEY_FLAG, STORE_FLAG } from '../store-flags.js'
import { readOnly, withQueue } from '../store-session.js'
import { parseStoreUri } from '../store-uri.js'

/** The rows of the entries table shared by `inspect` and `dead`. */
export function entriesTable(entries: Entry[], now: number, dead = false): string {
  const headers = [
    'ID',
    'PEER',
    'PROTOCOL',
    'LEVEL',
    'ATTEMPTS',
    'AGE',
    'SIZE',
    dead ? 'REASON' : 'LAST ERROR'
  ]
  const rows = entries.map((entry) => [
    entry.id,
    shortPeer(entry.peer),
    entry.protocol,
    entry.level,
    String(entry.attempts),
    formatAge(now - entry.createdAt),
    formatBytes(entry.payload.byteLength),
    dead
      ? `${entry.deadLetter?.reason ?? ''}${entry.lastError ? `: ${briefError(entry.lastError, TABLE_ERROR_WIDTH)}` : ''}`
      : briefError(entry.lastError ?? '', TABLE_ERROR_WIDTH)
  ])
  return table(headers, rows, [4, 5, 6])
}

export const inspectCommand: Command = {
  spec: {
    name: 'inspect',
    summary: 'list the entries queued in a store',
    usage: '--key FILE --store URI [--json]',
    flags: { key: KEY_FLAG, store: STORE_FLAG, json: JSON_FLAG },
    details:
      'Reads the store read-only: nothing on disk changes, and a running dnt that holds the store\n' +
      'goes on undisturbed. --json prints an array of entries with every field (times in whole ms\n' +
      'since the epoch plus ISO 8601 in "createdAtIso", "nextAttemptAtIso"; payload as base64, and\n' +
      'as text in "data" when it is UTF-8), dead letters included. A damaged store exits 1 saying\n' +
      'where, and how much still reads (see dnt repair).'
  },
  async run({ io, flags }) {
    const identity = readKeyFile(requiredFlag(flags, 'key'))
    const location = parseStoreUri(requiredFlag(flags, 'store'))
    const [queued, dead] = await withQueue(
      location,
      identity,
      '--store',
      async (outbox) => [outbox?.entries() ?? [], outbox?.deadLetters() ?? []],
      readOnly(io, 'inspect')
    )
    if (flags.json === true) {
      printJson(io, [...queued, ...dead].map(entryToJson))
      return EXIT_OK
    }
    const bytes = queued.reduce((sum, entry) => sum + entry.payload.byteLength, 0)
    if (queued.length > 0) say(io, entriesTable(queued, Date.now()))
    say(
      io,
      `${queued.length} queued (${formatBytes(bytes)}), ${dead.length} dead-lettered${dead.length > 0 ? ' (see dnt dead)' : ''}`
    )
    return EXIT_OK
  }
}

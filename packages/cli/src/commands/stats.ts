import type { Entry } from '@dntkit/core'
import { requiredFlag } from '../arguments.js'
import { type Command, printJson, say } from '../command.js'
import { EXIT_OK } from '../constants.js'
import { formatAge, formatBytes, table } from '../format.js'
import { readKeyFile } from '../key-file.js'
import { JSON_FLAG, KEY_FLAG, STORE_FLAG } from '../store-flags.js'
import { deadOf, queuedOf, withStore } from '../store-session.js'
import { parseStoreUri } from '../store-uri.js'

interface Tally {
  entries: number
  bytes: number
}

/** What `dnt stats --json` prints (the store-side subset of the outbox's `OutboxStats`). */
export interface StoreStats {
  queued: number
  bytes: number
  peers: number
  deadLetters: number
  oldestAge: number | null
  byLevel: Record<string, Tally>
  byPeer: Record<string, Tally>
  byProtocol: Record<string, Tally>
}

function tally(entries: Entry[], key: (entry: Entry) => string): Record<string, Tally> {
  const result: Record<string, Tally> = {}
  for (const entry of entries) {
    const name = key(entry)
    const current = result[name] ?? { entries: 0, bytes: 0 }
    current.entries++
    current.bytes += entry.payload.byteLength
    result[name] = current
  }
  return result
}

/** Counts the queued entries of a store by level, peer and protocol. */
export function storeStats(entries: Entry[], now: number): StoreStats {
  const queued = queuedOf(entries)
  const oldest = Math.min(...queued.map((entry) => entry.createdAt))
  const byPeer = tally(queued, (entry) => entry.peer)
  return {
    queued: queued.length,
    bytes: queued.reduce((sum, entry) => sum + entry.payload.byteLength, 0),
    peers: Object.keys(byPeer).length,
    deadLetters: deadOf(entries).length,
    oldestAge: queued.length === 0 ? null : Math.max(0, now - oldest),
    byLevel: tally(queued, (entry) => entry.level),
    byPeer,
    byProtocol: tally(queued, (entry) => entry.protocol)
  }
}

function section(title: string, tallies: Record<string, Tally>): string {
  const rows = Object.entries(tallies)
    .sort(([, left], [, right]) => right.entries - left.entries)
    .map(([name, value]) => [name, String(value.entries), formatBytes(value.bytes)])
  return table([title, 'ENTRIES', 'BYTES'], rows, [1, 2])
}

export const statsCommand: Command = {
  spec: {
    name: 'stats',
    summary: 'print totals of a store by level, peer and protocol',
    usage: '--key FILE --store URI [--json]',
    flags: { key: KEY_FLAG, store: STORE_FLAG, json: JSON_FLAG }
  },
  async run({ io, flags }) {
    const identity = readKeyFile(requiredFlag(flags, 'key'))
    const location = parseStoreUri(requiredFlag(flags, 'store'))
    const entries = await withStore(
      location,
      identity,
      '--store',
      async (opened) => opened?.entries ?? []
    )
    const stats = storeStats(entries, Date.now())
    if (flags.json === true) {
      printJson(io, stats)
      return EXIT_OK
    }
    const oldest = stats.oldestAge === null ? '-' : formatAge(stats.oldestAge)
    say(
      io,
      `queued: ${stats.queued} entries, ${formatBytes(stats.bytes)}, ${stats.peers} ${stats.peers === 1 ? 'peer' : 'peers'}, oldest ${oldest}`
    )
    say(io, `dead letters: ${stats.deadLetters}`)
    if (stats.queued > 0) {
      say(io)
      say(io, section('LEVEL', stats.byLevel))
      say(io)
      say(io, section('PEER', stats.byPeer))
      say(io)
      say(io, section('PROTOCOL', stats.byProtocol))
    }
    return EXIT_OK
  }
}

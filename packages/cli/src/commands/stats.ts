import type { OutboxStats, Tally } from '@dntkit/core'
import { requiredFlag } from '../arguments.js'
import { type Command, printJson, say } from '../command.js'
import { EXIT_OK } from '../constants.js'
import { formatAge, formatBytes, jsonTime, table } from '../format.js'
import { readKeyFile } from '../key-file.js'
import { readOnly, withQueue } from '../store-session.js'
import { parseStoreUri } from '../store-uri.js'
import { statsSpec } from './stats-spec.js'

/** What `dnt stats --json` prints: the store-side part of the outbox's `OutboxStats`. */
export type StoreStats = Pick<
  OutboxStats,
  'queued' | 'bytes' | 'peers' | 'deadLetters' | 'oldestAge' | 'byLevel' | 'byPeer' | 'byProtocol'
>

const EMPTY: StoreStats = {
  queued: 0,
  bytes: 0,
  peers: 0,
  deadLetters: 0,
  oldestAge: null,
  byLevel: {},
  byPeer: {},
  byProtocol: {}
}

function section(title: string, tallies: Record<string, Tally>): string {
  const rows = Object.entries(tallies)
    .sort(([, left], [, right]) => right.entries - left.entries)
    .map(([name, value]) => [name, String(value.entries), formatBytes(value.bytes)])
  return table([title, 'ENTRIES', 'BYTES'], rows, [1, 2])
}

export const statsCommand: Command = {
  spec: statsSpec,
  async run({ io, flags }) {
    const identity = readKeyFile(requiredFlag(flags, 'key'))
    const location = parseStoreUri(requiredFlag(flags, 'store'))
    const stats = await withQueue(
      location,
      identity,
      '--store',
      async (outbox) => {
        if (outbox === undefined) return EMPTY
        const { queued, bytes, peers, deadLetters, oldestAge, byLevel, byPeer, byProtocol } =
          outbox.stats()
        // an age in whole milliseconds, as every time of --json output
        const age = oldestAge === null ? null : jsonTime(oldestAge)
        return { queued, bytes, peers, deadLetters, oldestAge: age, byLevel, byPeer, byProtocol }
      },
      readOnly(io, 'stats')
    )
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

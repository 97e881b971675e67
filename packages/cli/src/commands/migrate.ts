import { requiredFlag } from '../arguments.js'
import { type Command, printJson, say } from '../command.js'
import { EXIT_OK } from '../constants.js'
import { CommandFailedError, UsageError } from '../errors.js'
import { readKeyFile } from '../key-file.js'
import { deadOf, readOnly, withStore } from '../store-session.js'
import { checkStoreLocation, parseStoreUri, type StoreLocation } from '../store-uri.js'
import { migrateSpec } from './migrate-spec.js'

function samePlace(left: StoreLocation, right: StoreLocation): boolean {
  return 'path' in left && 'path' in right && left.path === right.path
}

export const migrateCommand: Command = {
  spec: migrateSpec,
  async run({ io, flags }) {
    const identity = readKeyFile(requiredFlag(flags, 'key'))
    const from = parseStoreUri(requiredFlag(flags, 'from'), '--from')
    const to = parseStoreUri(requiredFlag(flags, 'to'), '--to')
    if (from.kind === 'memory' || to.kind === 'memory') {
      throw new UsageError(
        `${from.kind === 'memory' ? '--from' : '--to'} memory: keeps nothing after dnt exits; migrate between file:, level: and oc-discovery: stores`
      )
    }
    if (samePlace(from, to))
      throw new UsageError(`--from and --to name the same place: ${from.uri}`)
    if (!checkStoreLocation(from, '--from').exists) {
      throw new UsageError(`--from ${from.uri}: no store there`)
    }
    checkStoreLocation(to, '--to')
    // the source is only read: opened read-only, it is left exactly as it was
    const entries = await withStore(
      from,
      identity,
      '--from',
      async (source) => {
        const all = source?.entries ?? []
        await withStore(
          to,
          identity,
          '--to',
          async (destination) => {
            if (all.length > 0) await destination?.store.apply({ put: all })
          },
          { createIfMissing: true }
        )
        return all
      },
      readOnly(io, 'migrate')
    )
    const check = await withStore(
      to,
      identity,
      '--to',
      async (opened) => opened?.entries ?? [],
      readOnly(io, 'migrate')
    )
    const present = new Set(check.map((entry) => entry.id))
    const lost = entries.filter((entry) => !present.has(entry.id))
    if (lost.length > 0) {
      throw new CommandFailedError(
        `--to ${to.uri}: ${lost.length} of ${entries.length} entries are missing after the copy (first: ${lost[0]?.id}); ${from.uri} is unchanged`
      )
    }
    const dead = deadOf(entries).length
    if (flags.json === true) {
      printJson(io, { copied: entries.length, deadLetters: dead, from: from.uri, to: to.uri })
    } else {
      say(
        io,
        `copied ${entries.length} entries (${dead} dead-lettered) from ${from.uri} to ${to.uri}`
      )
      say(io, `${from.uri} is unchanged; remove it once you no longer need it`)
    }
    return EXIT_OK
  }
}

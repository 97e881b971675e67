import type { DeadLetter } from '@dntkit/core'
import { listFlag, requiredFlag } from '../arguments.js'
import { type Command, printJson, say } from '../command.js'
import { EXIT_OK } from '../constants.js'
import { UsageError } from '../errors.js'
import { DEAD_LETTER_ADVICE, entryToJson, plainError } from '../format.js'
import { readKeyFile } from '../key-file.js'
import { readOnly, warnings, withQueue } from '../store-session.js'
import { parseStoreUri } from '../store-uri.js'
import { deadSpec } from './dead-spec.js'
import { entriesTable } from './inspect.js'

export const deadCommand: Command = {
  spec: deadSpec,
  async run({ io, flags }) {
    const identity = readKeyFile(requiredFlag(flags, 'key'))
    const location = parseStoreUri(requiredFlag(flags, 'store'))
    const ids = Array.from(new Set(listFlag(flags, 'requeue')))
    const json = flags.json === true
    if (ids.length === 0) {
      const dead = await withQueue(
        location,
        identity,
        '--store',
        async (outbox) => outbox?.deadLetters() ?? [],
        readOnly(io, 'dead')
      )
      if (json) printJson(io, dead.map(entryToJson))
      else {
        if (dead.length > 0) say(io, `${entriesTable(dead, Date.now(), true)}\n`)
        // the whole error of each (the table cuts it), then what to do, once per reason
        for (const entry of dead) {
          const why = entry.lastError === undefined ? '' : `: ${plainError(entry.lastError)}`
          say(io, `${entry.id}: ${entry.deadLetter?.reason}${why}`)
        }
        const reasons = new Set(dead.map((entry) => entry.deadLetter?.reason))
        for (const reason of Object.keys(DEAD_LETTER_ADVICE) as DeadLetter['reason'][]) {
          if (reasons.has(reason)) say(io, `${reason}: ${DEAD_LETTER_ADVICE[reason]}`)
        }
        say(io, `${dead.length} dead-lettered`)
      }
      return EXIT_OK
    }
    const count = await withQueue(
      location,
      identity,
      '--store',
      async (outbox) => {
        const dead = new Set((outbox?.deadLetters() ?? []).map((entry) => entry.id))
        const missing = ids.filter((id) => !dead.has(id))
        if (missing.length > 0) {
          throw new UsageError(
            `--requeue ${missing.join(', ')}: no such dead letter in ${location.uri}; nothing was requeued`
          )
        }
        // attempts and age reset, durably, as the outbox does it
        return (await outbox?.requeue(ids)) ?? 0
      },
      warnings(io, 'dead')
    )
    if (json) printJson(io, { requeued: count, ids })
    else
      say(io, `requeued ${count} ${count === 1 ? 'entry' : 'entries'}; \`dnt flush\` delivers them`)
    return EXIT_OK
  }
}

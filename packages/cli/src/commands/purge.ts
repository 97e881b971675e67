import { listFlag, oneOf, requiredFlag, stringFlag } from '../arguments.js'
import { type Command, printJson, say } from '../command.js'
import { EXIT_OK } from '../constants.js'
import { UsageError } from '../errors.js'
import { readKeyFile } from '../key-file.js'
import { warnings, withQueue } from '../store-session.js'
import { parseStoreUri } from '../store-uri.js'
import { parsePeerId } from '../target.js'
import { purgeSpec } from './purge-spec.js'

export const purgeCommand: Command = {
  spec: purgeSpec,
  async run({ io, flags }) {
    const selector = oneOf(flags, ['id', 'peer', 'all'])
    const identity = readKeyFile(requiredFlag(flags, 'key'))
    const location = parseStoreUri(requiredFlag(flags, 'store'))
    const ids = listFlag(flags, 'id')
    const peerFlag = stringFlag(flags, 'peer')
    const peer = peerFlag === undefined ? undefined : parsePeerId(peerFlag, '--peer')
    const removed = await withQueue(
      location,
      identity,
      '--store',
      async (outbox) => {
        if (outbox === undefined) return []
        const entries = [...outbox.entries(), ...outbox.deadLetters()]
        let chosen: string[]
        if (selector === 'id') {
          const known = new Set(entries.map((entry) => entry.id))
          const missing = ids.filter((id) => !known.has(id))
          if (missing.length > 0) {
            throw new UsageError(
              `--id ${missing.join(', ')}: no such entry in ${location.uri}; nothing was removed`
            )
          }
          chosen = Array.from(new Set(ids))
        } else if (selector === 'peer') {
          chosen = entries.filter((entry) => entry.peer === peer).map((entry) => entry.id)
        } else {
          chosen = entries.map((entry) => entry.id)
        }
        if (chosen.length > 0) await outbox.purge({ ids: chosen })
        return chosen
      },
      warnings(io, 'purge')
    )
    if (flags.json === true) printJson(io, { removed: removed.length, ids: removed })
    else
      say(
        io,
        `removed ${removed.length} ${removed.length === 1 ? 'entry' : 'entries'} from ${location.uri}`
      )
    return EXIT_OK
  }
}

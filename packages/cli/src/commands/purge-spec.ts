import type { CommandSpec } from '../arguments.js'
import { JSON_FLAG, KEY_FLAG, STORE_FLAG } from '../store-flags.js'

/** `dnt purge`: its flags and help (loaded without the command itself). */
export const purgeSpec: CommandSpec = {
  name: 'purge',
  summary: 'remove entries (queued or dead-lettered) from a store without delivering them',
  usage: '--key FILE --store URI (--id ID ... | --peer PEER | --all) [--json]',
  flags: {
    key: KEY_FLAG,
    store: STORE_FLAG,
    id: {
      type: 'string',
      value: 'ID',
      multiple: true,
      description: 'remove these entries (all must exist)'
    },
    peer: { type: 'string', value: 'PEER', description: 'remove every entry to this peer id' },
    all: { type: 'boolean', description: 'remove every entry' },
    json: JSON_FLAG
  },
  details: 'Nothing is removed when one of the --id values is not in the store (exit 2).'
}

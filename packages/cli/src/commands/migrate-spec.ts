import type { CommandSpec } from '../arguments.js'
import { JSON_FLAG, KEY_FLAG } from '../store-flags.js'

/** `dnt migrate`: its flags and help (loaded without the command itself). */
export const migrateSpec: CommandSpec = {
  name: 'migrate',
  summary: 'copy every entry (dead letters included) from one store to another',
  usage: '--key FILE --from URI --to URI [--json]',
  flags: {
    key: KEY_FLAG,
    from: {
      type: 'string',
      value: 'URI',
      required: true,
      description: 'store to read (left unchanged)'
    },
    to: {
      type: 'string',
      value: 'URI',
      required: true,
      description: 'store to write (created when missing)'
    },
    json: JSON_FLAG
  },
  details:
    'The copy is one atomic batch, checked by reopening the destination. The source is left\n' +
    'unchanged: remove it (or `dnt purge --all` it) once you no longer need it, or both stores\n' +
    'would deliver the same messages. oc-discovery:FILE holds only what the Go original can.'
}

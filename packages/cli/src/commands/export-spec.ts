import type { CommandSpec } from '../arguments.js'
import { KEY_FLAG, STORE_FLAG } from '../store-flags.js'

/** `dnt export`: its flags and help (loaded without the command itself). */
export const exportSpec: CommandSpec = {
  name: 'export',
  summary: 'write every entry of a store (dead letters included) as JSONL, read-only',
  usage: '--key FILE --store URI [--out FILE]',
  flags: {
    key: KEY_FLAG,
    store: STORE_FLAG,
    out: {
      type: 'string',
      value: 'FILE',
      description: 'write here (mode 0600, never over an existing file) instead of stdout'
    }
  },
  details:
    'One JSON object a line, in the order the store keeps them (first put first), each as\n' +
    '`dnt inspect --json` prints it: every field, times in whole ms since the epoch plus ISO 8601,\n' +
    'the payload as base64 (and as text in "data" when it is UTF-8). The store is opened\n' +
    'read-only: nothing on disk changes. A damaged store exits 1 saying where (see dnt repair).'
}

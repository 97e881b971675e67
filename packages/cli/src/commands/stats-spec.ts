import type { CommandSpec } from '../arguments.js'
import { JSON_FLAG, KEY_FLAG, STORE_FLAG } from '../store-flags.js'

/** `dnt stats`: its flags and help (loaded without the command itself). */
export const statsSpec: CommandSpec = {
  name: 'stats',
  summary: 'print totals of a store by level, peer and protocol',
  usage: '--key FILE --store URI [--json]',
  flags: { key: KEY_FLAG, store: STORE_FLAG, json: JSON_FLAG }
}

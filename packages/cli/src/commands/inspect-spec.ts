import type { CommandSpec } from '../arguments.js'
import { JSON_FLAG, KEY_FLAG, STORE_FLAG } from '../store-flags.js'

/** `dnt inspect`: its flags and help (loaded without the command itself). */
export const inspectSpec: CommandSpec = {
  name: 'inspect',
  summary: 'list the entries queued in a store',
  usage: '--key FILE --store URI [--json]',
  flags: { key: KEY_FLAG, store: STORE_FLAG, json: JSON_FLAG },
  details:
    'Reads the store read-only: nothing on disk changes, and a running dnt that holds the store\n' +
    'goes on undisturbed. --json prints an array of entries with every field (times in whole ms\n' +
    'since the epoch plus ISO 8601 in "createdAtIso", "nextAttemptAtIso"; payload as base64, and\n' +
    'as text in "data" when it is UTF-8), dead letters included, and the replies the store keeps\n' +
    '(of messages delivered after their dnt send ended; with "delivered" and "reply"). It only\n' +
    'shows replies: dnt flush prints and takes them. A damaged store exits 1 saying where, and\n' +
    'how much still reads (see dnt repair).'
}

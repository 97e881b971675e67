import type { CommandSpec } from '../arguments.js'
import { JSON_FLAG, KEY_FLAG, STORE_FLAG } from '../store-flags.js'

/** `dnt dead`: its flags and help (loaded without the command itself). */
export const deadSpec: CommandSpec = {
  name: 'dead',
  summary:
    'list dead letters (out of retries, expired, refused, undeliverable) and what to do, or requeue some',
  usage: '--key FILE --store URI [--requeue ID ... | --json]',
  flags: {
    key: KEY_FLAG,
    store: STORE_FLAG,
    requeue: {
      type: 'string',
      value: 'ID',
      multiple: true,
      description: 'put these dead letters back in the queue (attempts and age reset)'
    },
    json: JSON_FLAG
  },
  details:
    "Listing reads the store read-only (nothing on disk changes): a table, each dead letter's whole\n" +
    'error, and what to do about each reason (--json: deadLetter.reason and .advice). Only levels with\n' +
    'onExhausted: "dead-letter" keep dead letters (critical in the default preset).\n' +
    'Requeued entries are delivered by the next `dnt flush`. Nothing is requeued when one of the\n' +
    'ids is not a dead letter in the store (exit 2).'
}

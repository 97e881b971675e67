import type { CommandSpec } from '../arguments.js'
import { MODE_META_KEY } from '../constants.js'
import { MODE_FLAG } from '../mode-flag.js'
import { REPLY_OUT_FLAG } from '../reply-output.js'
import { JSON_FLAG, KEY_FLAG, LISTEN_FLAG, STORE_FLAG } from '../store-flags.js'

/** `dnt flush`: its flags and help (loaded without the command itself). */
export const flushSpec: CommandSpec = {
  name: 'flush',
  summary: 'deliver what a store holds now, ignoring backoff; --wait keeps retrying',
  usage:
    '--key FILE --store URI [--wait SECONDS] [--policy FILE] [--mode raw|envelope] [--listen MULTIADDR]\n' +
    '               [--reply-out FILE] [--json]',
  flags: {
    key: KEY_FLAG,
    store: STORE_FLAG,
    wait: {
      type: 'string',
      value: 'SECONDS',
      description: 'keep retrying up to SECONDS; exit 0 when all is delivered, 3 when time is up'
    },
    policy: {
      type: 'string',
      value: 'FILE',
      description:
        'policy JSON for backoff and retry limits while waiting (default preset otherwise)'
    },
    mode: {
      ...MODE_FLAG,
      description: `force raw or envelope (default: the mode dnt send recorded in meta "${MODE_META_KEY}", else raw)`
    },
    listen: LISTEN_FLAG,
    'reply-out': REPLY_OUT_FLAG,
    json: JSON_FLAG
  },
  details:
    "One attempt per peer right away; with --wait, retries follow the policy's backoff and a peer\n" +
    'that connects is flushed at once. Exit 0: nothing left queued; 3: entries remain in the store;\n' +
    '1: an entry was refused or abandoned. Dead letters are not delivered (see dnt dead --requeue).\n' +
    'Replies: those the store kept from earlier runs, then those of what it delivers, go to stdout,\n' +
    'one line each (reply ID: "TEXT", or reply ID: base64 BASE64), and are then taken from the\n' +
    'store (with --json: in "replies"; with --reply-out: to FILE first).'
}

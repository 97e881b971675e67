import type { CommandSpec } from '../arguments.js'
import { MODE_META_KEY } from '../constants.js'
import { MODE_FLAG } from '../mode-flag.js'
import { REPLY_OUT_FLAG } from '../reply-output.js'
import { KEY_FLAG, LISTEN_FLAG, STORE_FLAG } from '../store-flags.js'

/** `dnt send`: its flags and help (loaded without the command itself). */
export const sendSpec: CommandSpec = {
  name: 'send',
  summary: 'deliver messages now, queue the rest per policy (durably for persisted levels)',
  usage:
    '--key FILE --store URI --to MULTIADDR/p2p/PEER --protocol ID (--data TEXT | --file PATH | --jsonl PATH)\n' +
    '              [--level NAME] [--policy FILE] [--wait SECONDS] [--mode raw|envelope] [--listen MULTIADDR]\n' +
    '              [--reply-out FILE] [--json]',
  flags: {
    key: KEY_FLAG,
    store: STORE_FLAG,
    to: {
      type: 'string',
      value: 'MULTIADDR/p2p/PEER',
      required: true,
      description: 'the receiver: an address to dial, ending with its peer id'
    },
    protocol: {
      type: 'string',
      value: 'ID',
      description: 'protocol id of the messages (required unless every --jsonl line has "protocol")'
    },
    data: { type: 'string', value: 'TEXT', description: 'one message: this text (UTF-8)' },
    file: { type: 'string', value: 'PATH', description: 'one message: the bytes of this file' },
    jsonl: {
      type: 'string',
      value: 'PATH',
      description:
        'one message per line: {"data": "text"} or {"base64": "..."}, optional id, protocol, level (- is stdin)'
    },
    level: {
      type: 'string',
      value: 'NAME',
      description: "use this level instead of the policy's mapping"
    },
    policy: {
      type: 'string',
      value: 'FILE',
      description: 'policy JSON (levels, protocols, fallback); default preset otherwise'
    },
    wait: {
      type: 'string',
      value: 'SECONDS',
      description: 'keep retrying up to SECONDS; exit 0 when all is delivered, 3 when time is up'
    },
    mode: MODE_FLAG,
    listen: LISTEN_FLAG,
    'reply-out': REPLY_OUT_FLAG,
    json: {
      type: 'boolean',
      description: "print a JSON report (counts and each message's status and reply)"
    }
  },
  details:
    'Every input is checked before the store is opened: a bad flag, key, address, policy or JSONL\n' +
    'line exits 2 and changes nothing. Without --wait, dnt send makes one attempt, queues what\n' +
    'failed and exits 3 if anything is queued (dnt flush retries later), 0 when all was delivered,\n' +
    '1 when a message was refused or abandoned. In envelope mode the mode is recorded in the\n' +
    `entry's meta ("${MODE_META_KEY}") so that dnt flush delivers it the same way.\n` +
    'The reply of each message delivered during this run goes to stdout, one line each:\n' +
    '  reply ID: "TEXT" (UTF-8, JSON-quoted) or reply ID: base64 BASE64\n' +
    '(with --json: in each message\'s "reply"; with --reply-out: to FILE). A reply that comes\n' +
    'after this run stays in the store: dnt flush prints and takes it.'
}

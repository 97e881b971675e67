import type { CommandSpec } from '../arguments.js'
import { MODE_FLAG } from '../mode-flag.js'
import { RECEIVER_LIMIT_FLAGS } from '../receiver-limits.js'
import { REPLY_FLAG } from '../reply-source.js'
import { KEY_FLAG } from '../store-flags.js'

/** `dnt listen`: its flags and help (loaded without the command itself). */
export const listenSpec: CommandSpec = {
  name: 'listen',
  summary: 'receive messages and print them (JSONL with --jsonl) until SIGINT / SIGTERM',
  usage:
    '--key FILE --listen MULTIADDR --protocol ID [--protocol ID ...] [--jsonl OUT] [--mode raw|envelope] [--allow PEER ...] [--allow-file FILE]\n' +
    '              [--reply file:PATH|exec:COMMAND] [limits]',
  flags: {
    key: KEY_FLAG,
    listen: {
      type: 'string',
      value: 'MULTIADDR',
      required: true,
      multiple: true,
      description: 'address to listen on, e.g. /ip4/127.0.0.1/tcp/4001 (tcp/0: any free port)'
    },
    protocol: {
      type: 'string',
      value: 'ID',
      required: true,
      multiple: true,
      description: 'protocol id to accept messages for'
    },
    jsonl: {
      type: 'string',
      value: 'OUT',
      description: 'append one JSON object per message to OUT (fsynced before the ack); - is stdout'
    },
    mode: {
      ...MODE_FLAG,
      description: 'accept only raw streams or only envelopes (default: both)'
    },
    allow: {
      type: 'string',
      value: 'PEER',
      multiple: true,
      description: 'accept messages only from this peer id (repeatable; default: anyone)'
    },
    'allow-file': {
      type: 'string',
      value: 'FILE',
      description: 'accept messages only from the peer ids in FILE (one a line, # comments)'
    },
    reply: REPLY_FLAG,
    ...RECEIVER_LIMIT_FLAGS
  },
  details:
    'Status lines go to stderr: the peer id, then "listening on MULTIADDR/p2p/PEER" per address.\n' +
    'JSONL records: {"id"?, "from", "protocol", "data"?, "base64", "receivedAt"}; "id" in envelope\n' +
    'mode, "data" when the payload is UTF-8, "receivedAt" an ISO 8601 time. Envelope mode drops\n' +
    'duplicates of a message id already received (in memory, for this run).\n' +
    'With --allow / --allow-file, any other peer (as noise authenticated it) is refused: in\n' +
    'envelope mode its message is answered rejected / unauthorized from its header, in raw mode\n' +
    'its stream is reset; nothing of it is written.\n' +
    'With --reply, every message is answered: file:PATH with the bytes of PATH (read at start, at\n' +
    'most --max-reply-bytes); exec:COMMAND runs /bin/sh -c COMMAND per message, the payload on its\n' +
    'stdin, DNT_ID (envelope), DNT_FROM and DNT_PROTOCOL in its environment, and its stdout is the\n' +
    'reply. A command that exits non-zero, is killed, runs over 10 s or writes more than\n' +
    '--max-reply-bytes fails that message: it is not recorded, and its sender retries it.\n' +
    'Limits hold in both modes: a raw stream over --max-message-bytes, --idle-timeout, the memory\n' +
    'budget (--max-buffered, --max-buffered-per-peer), --max-streams-per-peer or the rate limit is\n' +
    'reset (its sender retries); an envelope message is answered rejected (too large) or try-later.\n' +
    'The last line counts what the limits refused or cut off, by reason ("limits hit: idle 1").'
}

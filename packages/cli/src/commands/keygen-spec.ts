import type { CommandSpec } from '../arguments.js'

/** `dnt keygen`: its flags and help (loaded without the command itself). */
export const keygenSpec: CommandSpec = {
  name: 'keygen',
  summary: 'write a new Ed25519 key (libp2p protobuf encoding) and print its peer id',
  usage: '--out FILE [--json]',
  flags: {
    out: {
      type: 'string',
      value: 'FILE',
      required: true,
      description: 'where to write the key (mode 0600); must not exist'
    },
    json: { type: 'boolean', description: 'print {"peerId", "file"} as JSON' }
  },
  details: 'The key is the node identity and the root of the store encryption keys: keep it safe.'
}

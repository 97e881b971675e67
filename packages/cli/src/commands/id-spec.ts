import type { CommandSpec } from '../arguments.js'

/** `dnt id`: its flags and help (loaded without the command itself). */
export const idSpec: CommandSpec = {
  name: 'id',
  summary: 'print the peer id of a key file',
  usage: '--key FILE [--json]',
  flags: {
    key: {
      type: 'string',
      value: 'FILE',
      required: true,
      description: 'libp2p protobuf or PKCS#8 PEM Ed25519 key'
    },
    json: { type: 'boolean', description: 'print {"peerId"} as JSON' }
  }
}

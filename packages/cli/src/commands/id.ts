import { requiredFlag } from '../arguments.js'
import { type Command, printJson, say } from '../command.js'
import { EXIT_OK } from '../constants.js'
import { readKeyFile } from '../key-file.js'

export const idCommand: Command = {
  spec: {
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
  },
  async run({ io, flags }) {
    const identity = readKeyFile(requiredFlag(flags, 'key'))
    if (flags.json === true) printJson(io, { peerId: identity.peerId })
    else say(io, identity.peerId)
    return EXIT_OK
  }
}

import { requiredFlag } from '../arguments.js'
import { type Command, printJson, say } from '../command.js'
import { EXIT_OK } from '../constants.js'
import { readKeyFile } from '../key-file.js'
import { idSpec } from './id-spec.js'

export const idCommand: Command = {
  spec: idSpec,
  async run({ io, flags }) {
    const identity = readKeyFile(requiredFlag(flags, 'key'))
    if (flags.json === true) printJson(io, { peerId: identity.peerId })
    else say(io, identity.peerId)
    return EXIT_OK
  }
}

import { closeSync, constants, fchmodSync, fsyncSync, openSync, writeSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { ed25519FromSeed, encodePrivateKey } from '@dntkit/core'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { requiredFlag } from '../arguments.js'
import { type Command, printJson, say } from '../command.js'
import { EXIT_OK, KEY_FILE_MODE } from '../constants.js'
import { UsageError } from '../errors.js'
import { syncDirectory } from '../sync-directory.js'
import { keygenSpec } from './keygen-spec.js'

export const keygenCommand: Command = {
  spec: keygenSpec,
  async run({ io, flags }) {
    const file = resolve(requiredFlag(flags, 'out'))
    const raw = ed25519FromSeed(globalThis.crypto.getRandomValues(new Uint8Array(32)))
    const encoded = encodePrivateKey(raw)
    let descriptor: number
    try {
      descriptor = openSync(
        file,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
        KEY_FILE_MODE
      )
    } catch (error) {
      const code = (error as { code?: string }).code
      if (code === 'EEXIST')
        throw new UsageError(`--out ${file}: already exists; refusing to overwrite a key`)
      if (code === 'ENOENT')
        throw new UsageError(`--out ${file}: directory ${dirname(file)} does not exist`)
      throw new UsageError(`--out ${file}: cannot create it (${code ?? error})`)
    }
    try {
      fchmodSync(descriptor, KEY_FILE_MODE)
      writeSync(descriptor, encoded)
      fsyncSync(descriptor)
    } finally {
      closeSync(descriptor)
      raw.fill(0)
    }
    syncDirectory(dirname(file))
    const peerId = peerIdFromPrivateKey(privateKeyFromRaw(encoded.subarray(4))).toString()
    encoded.fill(0)
    if (flags.json === true) printJson(io, { peerId, file })
    else say(io, peerId)
    return EXIT_OK
  }
}

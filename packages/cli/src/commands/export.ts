import { closeSync, constants, existsSync, fsyncSync, openSync, writeSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { requiredFlag, stringFlag } from '../arguments.js'
import { type Command, note } from '../command.js'
import { EXIT_OK } from '../constants.js'
import { UsageError } from '../errors.js'
import { entryToJson } from '../format.js'
import { readKeyFile } from '../key-file.js'
import { readOnly, withStore } from '../store-session.js'
import { parseStoreUri } from '../store-uri.js'
import { syncDirectory } from '../sync-directory.js'
import { exportSpec } from './export-spec.js'

/** File mode of an export: it holds payloads, so its owner's only. */
const EXPORT_FILE_MODE = 0o600

/** Creates `file` (never over an existing one), writes `text`, fsyncs it and its directory. */
function writeNewFile(file: string, text: string): void {
  let descriptor: number
  try {
    descriptor = openSync(
      file,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
      EXPORT_FILE_MODE
    )
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'EEXIST')
      throw new UsageError(`--out ${file}: already exists; nothing was written`)
    if (code === 'ENOENT')
      throw new UsageError(`--out ${file}: directory ${dirname(file)} does not exist`)
    throw new UsageError(`--out ${file}: cannot create it (${code ?? error})`)
  }
  try {
    const bytes = Buffer.from(text, 'utf8')
    for (let written = 0; written < bytes.byteLength; ) {
      written += writeSync(descriptor, bytes, written, bytes.byteLength - written)
    }
    fsyncSync(descriptor)
  } finally {
    closeSync(descriptor)
  }
  syncDirectory(dirname(file))
}

export const exportCommand: Command = {
  spec: exportSpec,
  async run({ io, flags }) {
    const identity = readKeyFile(requiredFlag(flags, 'key'))
    const location = parseStoreUri(requiredFlag(flags, 'store'))
    const outFlag = stringFlag(flags, 'out')
    const out = outFlag === undefined ? undefined : resolve(outFlag)
    // refused before the store is read: an export never replaces a file
    if (out !== undefined && existsSync(out)) {
      throw new UsageError(`--out ${out}: already exists; nothing was written`)
    }
    const entries = await withStore(
      location,
      identity,
      '--store',
      async (opened) => opened?.entries ?? [],
      readOnly(io, 'export')
    )
    const text = entries.map((entry) => `${JSON.stringify(entryToJson(entry))}\n`).join('')
    if (out === undefined) io.stdout.write(text)
    else writeNewFile(out, text)
    const dead = entries.filter((entry) => entry.deadLetter !== undefined).length
    note(
      io,
      `exported ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'} (${dead} dead-lettered) from ${location.uri}${out === undefined ? '' : ` to ${out}`}`
    )
    return EXIT_OK
  }
}

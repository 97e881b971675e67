import type { StoreRepairReport } from '@dntkit/core'
import { requiredFlag } from '../arguments.js'
import { type Command, printJson, say } from '../command.js'
import { EXIT_OK } from '../constants.js'
import { UsageError, withContext } from '../errors.js'
import { readKeyFile } from '../key-file.js'
import { JSON_FLAG, KEY_FLAG, STORE_FLAG } from '../store-flags.js'
import { checkStoreLocation, parseStoreUri, type StoreLocation } from '../store-uri.js'

/** Runs the repair of the store package the location belongs to. */
async function repair(
  location: Exclude<StoreLocation, { kind: 'memory' }>,
  privateKey: Uint8Array
): Promise<StoreRepairReport> {
  switch (location.kind) {
    case 'file': {
      const { repairFileStore } = await import('@dntkit/store-file')
      return repairFileStore({ directory: location.path, privateKey })
    }
    case 'oc-discovery': {
      const { repairOcDiscoveryStore } = await import('@dntkit/store-file')
      return repairOcDiscoveryStore({ file: location.path, privateKey })
    }
    case 'level': {
      const { repairLevelStore } = await import('@dntkit/store-level')
      return repairLevelStore({ location: location.path, privateKey })
    }
  }
}

/** The lines of a repair report for a person. */
export function reportLines(report: StoreRepairReport, location: StoreLocation): string[] {
  const uri = location.uri
  const unit =
    location.kind === 'level' ? 'values' : location.kind === 'oc-discovery' ? 'elements' : 'records'
  if (!report.repaired) {
    return [`nothing to repair in ${uri}: ${report.entries} entries, all of them authenticate`]
  }
  const lines = [`repaired ${uri}: it holds ${report.entries} entries that still authenticate`]
  for (const file of report.files) {
    const where = file.movedTo === undefined ? '' : `; its bytes are kept in ${file.movedTo}`
    lines.push(
      file.missing ? `  ${file.file}: missing` : `  ${file.file}: kept ${file.kept} ${unit}${where}`
    )
    for (const loss of file.lost) {
      const place = [
        loss.key === undefined ? undefined : `key ${loss.key}`,
        loss.record === undefined || loss.key !== undefined ? undefined : `record ${loss.record}`,
        loss.offset === undefined ? undefined : `at offset ${loss.offset}`,
        loss.bytes === undefined ? undefined : `(${loss.bytes} bytes)`
      ]
        .filter((part) => part !== undefined)
        .join(' ')
      lines.push(`    could not keep ${place === '' ? '' : `${place}: `}${loss.reason}`)
    }
  }
  if (report.undecodable.length > 0) {
    lines.push(
      `  left out ${report.undecodable.length} entries that authenticate but do not decode: ${report.undecodable.join(', ')}`
    )
  }
  return lines
}

export const repairCommand: Command = {
  spec: {
    name: 'repair',
    summary: 'keep every entry of a damaged store that still authenticates; move the damage aside',
    usage: '--key FILE --store URI [--json]',
    flags: { key: KEY_FLAG, store: STORE_FLAG, json: JSON_FLAG },
    details:
      'file: and oc-discovery: stores: each damaged file is kept as NAME.corrupt-TIME beside it, and\n' +
      'the store is written anew from every record that still authenticates (records after the\n' +
      'damage too). level: stores: values that fail authentication are set aside in the database\n' +
      '(`q:` keys); if LevelDB itself reports corruption the directory is first copied to\n' +
      'DIR.corrupt-TIME, then LevelDB repairs it. Prints what was kept and what could not be.\n' +
      'A batch that was lost leaves its changes unknown: its entries are gone, unless a later\n' +
      'batch put them again, and entries it deleted may be back (and be delivered again). A store\n' +
      'without damage is left untouched. The store must not be in use (exit 1 while locked); a\n' +
      'wrong key changes nothing (exit 1).'
  },
  async run({ io, flags }) {
    const identity = readKeyFile(requiredFlag(flags, 'key'))
    const location = parseStoreUri(requiredFlag(flags, 'store'))
    if (location.kind === 'memory') {
      throw new UsageError(
        '--store memory: holds nothing once dnt exits: there is nothing to repair'
      )
    }
    if (!checkStoreLocation(location).exists) {
      throw new UsageError(`--store ${location.uri}: no store there`)
    }
    let report: StoreRepairReport
    try {
      report = await repair(location, identity.raw)
    } catch (error) {
      throw withContext(`cannot repair --store ${location.uri}`, error)
    }
    if (flags.json === true) printJson(io, report)
    else for (const line of reportLines(report, location)) say(io, line)
    return EXIT_OK
  }
}

import type { StoreRepairReport } from '@dntkit/core'
import { requiredFlag } from '../arguments.js'
import { type Command, printJson, say } from '../command.js'
import { EXIT_OK } from '../constants.js'
import { UsageError, withContext } from '../errors.js'
import { readKeyFile } from '../key-file.js'
import { checkStoreLocation, parseStoreUri, type StoreLocation } from '../store-uri.js'
import { repairSpec } from './repair-spec.js'

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
  spec: repairSpec,
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

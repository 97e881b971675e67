import { StoreCorruptError } from '@dntkit/core'
import { damagedFiles, type Salvage, type SalvagedFile } from './salvage.js'

/** One line per damaged file: what of it is lost, and what of it still reads. */
export function describeDamage(file: SalvagedFile): string {
  if (file.missing) return `${file.path}: ${file.lost[0]?.reason ?? 'missing'}`
  const regions = file.lost.map((region) =>
    region.record === 0
      ? `offset ${region.offset}: ${region.reason}`
      : `record ${region.record} at offset ${region.offset} (${region.end - region.offset} bytes): ${region.reason}`
  )
  return `${file.path}: ${regions.join('; ')}; ${file.kept} records of it authenticate`
}

/**
 * The `StoreCorruptError` of an open that found damage: the first error's
 * message and place, plus what `salvage` says still reads in the damaged
 * file and in the whole store.
 */
export function corruptionError(original: StoreCorruptError, salvage: Salvage): StoreCorruptError {
  const damaged = damagedFiles(salvage)
  const file = damaged.find((candidate) => candidate.path === original.file) ?? damaged[0]
  const region =
    file?.lost.find((candidate) => candidate.offset === original.offset) ?? file?.lost[0]
  const around =
    region === undefined
      ? ''
      : `${region.readableBefore} records of the file authenticate before the damage and ${region.readableAfter} after it; `
  const summary =
    around +
    `${salvage.entries.size} entries of the store still authenticate` +
    (damaged.length > 0 ? ` (${damaged.length} damaged file(s))` : '') +
    '; a repair keeps them and moves the damaged files aside; nothing was changed'
  return new StoreCorruptError(`${original.message}; ${summary}`, {
    cause: original,
    ...pick(original.file, file?.path, 'file'),
    ...pick(original.offset, region?.offset, 'offset'),
    ...pick(original.record, region?.record, 'record'),
    ...pick(region?.readableBefore, original.readableBefore, 'readableBefore'),
    ...pick(region?.readableAfter, original.readableAfter, 'readableAfter')
  })
}

function pick<T, K extends string>(first: T | undefined, second: T | undefined, name: K) {
  const value = first ?? second
  return (value === undefined ? {} : { [name]: value }) as Partial<Record<K, T>>
}

import { rejectUnknownOptions } from '@dntkit/core/plugin'
import { DEDUPE_MAX_BYTES, DEDUPE_MAX_BYTES_PER_PEER } from './constants.js'
import type { DedupeInit } from './dedupe-window.js'

const DEDUPE_OPTIONS: ReadonlyArray<keyof DedupeInit> = [
  'maxEntries',
  'maxEntriesPerPeer',
  'maxBytesPerPeer',
  'maxBytes',
  'maxAge',
  'minAge',
  'protectedPerPeer',
  'store'
]

/**
 * A receiver's `dedupe` option: its names, its store, and byte quotas that
 * hold the longest id (the window itself checks the numbers).
 */
export function checkDedupe(dedupe: DedupeInit, maxIdBytes: number): void {
  rejectUnknownOptions(dedupe, DEDUPE_OPTIONS, 'receiver option dedupe')
  const { store } = dedupe
  if (
    store != null &&
    (typeof store !== 'object' ||
      ['open', 'apply', 'close'].some(
        (method) => typeof (store as unknown as Record<string, unknown>)[method] !== 'function'
      ))
  ) {
    throw new TypeError('dedupe.store must be a Store (open, apply and close methods)')
  }
  for (const [name, fallback] of [
    ['maxBytesPerPeer', DEDUPE_MAX_BYTES_PER_PEER],
    ['maxBytes', DEDUPE_MAX_BYTES]
  ] as const) {
    const quota = dedupe[name] ?? fallback
    if (typeof quota === 'number' && quota < maxIdBytes) {
      throw new TypeError(
        `dedupe.${name} (${quota}) must hold the longest id: maxIdBytes = ${maxIdBytes}`
      )
    }
  }
}

/** Pieces several scenarios share (not a scenario: run.ts only loads src/scenarios/). */
import {
  definePolicy,
  type Entry,
  ed25519FromSeed,
  PeerUnreachableError,
  type Policy,
  type Transport
} from '@dntkit/core'

/** A transport whose every peer is down: each send ends up queued. */
export const down: Transport = {
  async deliver(entry: Entry) {
    throw new PeerUnreachableError(`${entry.peer} is down`)
  }
}

/** Unmapped protocols are critical, and a peer that failed waits an hour: every send is queued and persisted. */
export const parkedPolicy: Policy = definePolicy({
  levels: { critical: { backoff: { type: 'fixed', interval: 3_600_000 } } },
  fallback: 'critical'
})

/** The Ed25519 identity the store scenarios derive their keys from. */
export const privateKey = ed25519FromSeed(new Uint8Array(32).fill(3))

/** A full GC when node runs with --expose-gc (the bench scripts do). */
export const gc = (): void => (globalThis as { gc?: () => void }).gc?.()

/** 1000 -> "1k", for figure names. */
export const thousands = (value: number): string =>
  value >= 1_000 ? `${value / 1_000}k` : String(value)

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Identity } from './identity.js'

/** A fresh directory under the system's temporary folder, and a way to remove it. */
export interface Workspace {
  path: string
  /** A path inside it. */
  at(name: string): string
  /** Writes the key file of `identity` (0600) and returns its path. */
  keyFile(name: string, identity: Identity): string
  remove(): void
}

export function workspace(label: string): Workspace {
  const path = mkdtempSync(join(tmpdir(), `dntkit-chaos-${label}-`))
  return {
    path,
    at: (name) => join(path, name),
    keyFile(name, identity) {
      const file = join(path, name)
      writeFileSync(file, identity.keyFile, { mode: 0o600 })
      return file
    },
    remove: () => rmSync(path, { recursive: true, force: true })
  }
}

/** A deterministic pseudo-random source (mulberry32), so a failing run can be replayed by its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let value = state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296
  }
}

/** The seed of this run: `CHAOS_SEED` or the clock; printed by each scenario so it can be replayed. */
export function runSeed(): number {
  const given = process.env.CHAOS_SEED
  return given === undefined ? Date.now() % 2 ** 31 : Number(given)
}

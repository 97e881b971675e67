import type { CommandSpec } from '../arguments.js'
import type { Command } from '../command.js'
import { deadSpec } from './dead-spec.js'
import { demoSpec } from './demo-spec.js'
import { exportSpec } from './export-spec.js'
import { flushSpec } from './flush-spec.js'
import { idSpec } from './id-spec.js'
import { inspectSpec } from './inspect-spec.js'
import { keygenSpec } from './keygen-spec.js'
import { listenSpec } from './listen-spec.js'
import { migrateSpec } from './migrate-spec.js'
import { purgeSpec } from './purge-spec.js'
import { repairSpec } from './repair-spec.js'
import { sendSpec } from './send-spec.js'
import { statsSpec } from './stats-spec.js'

/**
 * A command as `dnt` lists it: its spec (flags, help) at once, the command
 * itself loaded when it runs. `dnt keygen` then loads no libp2p and no store.
 */
export interface CommandEntry {
  spec: CommandSpec
  load(): Promise<Command>
}

/** Every command, in the order `dnt --help` lists them. */
export const commands: CommandEntry[] = [
  { spec: keygenSpec, load: async () => (await import('./keygen.js')).keygenCommand },
  { spec: idSpec, load: async () => (await import('./id.js')).idCommand },
  { spec: listenSpec, load: async () => (await import('./listen.js')).listenCommand },
  { spec: sendSpec, load: async () => (await import('./send.js')).sendCommand },
  { spec: flushSpec, load: async () => (await import('./flush.js')).flushCommand },
  { spec: inspectSpec, load: async () => (await import('./inspect.js')).inspectCommand },
  { spec: statsSpec, load: async () => (await import('./stats.js')).statsCommand },
  { spec: purgeSpec, load: async () => (await import('./purge.js')).purgeCommand },
  { spec: deadSpec, load: async () => (await import('./dead.js')).deadCommand },
  { spec: exportSpec, load: async () => (await import('./export.js')).exportCommand },
  { spec: repairSpec, load: async () => (await import('./repair.js')).repairCommand },
  { spec: migrateSpec, load: async () => (await import('./migrate.js')).migrateCommand },
  { spec: demoSpec, load: async () => (await import('./demo.js')).demoCommand }
]

import type { Command } from '../command.js'
import { deadCommand } from './dead.js'
import { demoCommand } from './demo.js'
import { exportCommand } from './export.js'
import { flushCommand } from './flush.js'
import { idCommand } from './id.js'
import { inspectCommand } from './inspect.js'
import { keygenCommand } from './keygen.js'
import { listenCommand } from './listen.js'
import { migrateCommand } from './migrate.js'
import { purgeCommand } from './purge.js'
import { repairCommand } from './repair.js'
import { sendCommand } from './send.js'
import { statsCommand } from './stats.js'

/** Every command, in the order `dnt --help` lists them. */
export const commands: Command[] = [
  keygenCommand,
  idCommand,
  listenCommand,
  sendCommand,
  flushCommand,
  inspectCommand,
  statsCommand,
  purgeCommand,
  deadCommand,
  exportCommand,
  repairCommand,
  migrateCommand,
  demoCommand
]

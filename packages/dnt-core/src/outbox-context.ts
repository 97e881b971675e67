import type { EntryIndex } from './entry-index.js'
import type { OutboxEvents } from './events.js'
import type { Ledger } from './ledger.js'
import type { Logger } from './logger.js'
import type { ResolvedOutboxInit } from './outbox-options.js'
import type { PeerQueue } from './peer-queue.js'
import type { PeerScheduler } from './peer-scheduler.js'
import type { RetryRules } from './retry-rules.js'

/** Counts since `start()`, as `stats().totals` shows them. */
export interface Totals {
  delivered: number
  failedAttempts: number
  abandoned: number
  expired: number
}

/** Dispatches an event when someone listens; `detail` is only built then. */
export type Emit = <K extends keyof OutboxEvents>(type: K, detail: () => OutboxEvents[K]) => void

/** The parts of an outbox, as each of them sees the others. */
export interface OutboxContext {
  readonly options: ResolvedOutboxInit
  readonly log: Logger
  readonly index: EntryIndex
  readonly scheduler: PeerScheduler
  readonly ledger: Ledger
  readonly rules: RetryRules
  readonly totals: Totals
  readonly emit: Emit
  /** After a queue changed: schedule it, accept what waits in it, hand out free delivery slots. */
  reschedule(queue: PeerQueue): void
}

import { Deliveries } from './deliveries.js'
import { EntryFates } from './entry-fates.js'
import { EntryIndex } from './entry-index.js'
import { Ledger } from './ledger.js'
import type { Emit, OutboxContext, Totals } from './outbox-context.js'
import type { ResolvedOutboxInit } from './outbox-options.js'
import type { PeerQueue } from './peer-queue.js'
import { PeerScheduler } from './peer-scheduler.js'
import { RetryRules } from './retry-rules.js'
import { StoreHealth } from './store-health.js'

/** What the parts need from the facade that owns them. */
export interface PartsHost {
  running(): boolean
  delivering(): boolean
  emit: Emit
  reschedule(queue: PeerQueue): void
  emptied(queue: PeerQueue): void
}

/** An outbox's parts, wired to each other; the ledger is replaced at each start. */
export interface OutboxParts {
  context: OutboxContext
  index: EntryIndex
  scheduler: PeerScheduler
  fates: EntryFates
  deliveries: Deliveries
  health: StoreHealth
  totals: Totals
  /** A fresh ledger over the store (the previous one may have been given up on). */
  renewLedger(): void
  /** Forgets every entry, peer, timer and count (after a stop or a failed start). */
  reset(): void
}

/** Builds the parts of an outbox (see the package README, "How the Outbox is built"). */
export function assembleParts(options: ResolvedOutboxInit, host: PartsHost): OutboxParts {
  const log = options.logger('dntkit:outbox')
  const index = new EntryIndex(options.limits, options.limits.rememberDelivered)
  const totals: Totals = { delivered: 0, failedAttempts: 0, abandoned: 0, expired: 0 }
  let fates: EntryFates | undefined
  let deliveries: Deliveries | undefined
  const scheduler = new PeerScheduler(
    {
      running: host.running,
      delivering: host.delivering,
      expireDue: (queue, now) => fates?.expireDue(queue, now),
      fill: (queue) => deliveries?.fill(queue),
      emptied: host.emptied
    },
    options.clock,
    options.concurrency
  )
  let ledger: Ledger
  const health = new StoreHealth(options.clock, log, host.emit, () => ledger.retry())
  const renewLedger = (): void => {
    ledger = new Ledger(options.store, {
      onWriteFailed: (error) => health.failed(error),
      onWriteSucceeded: () => health.recovered()
    })
  }
  renewLedger()
  const context: OutboxContext = {
    options,
    log,
    index,
    scheduler,
    rules: new RetryRules(options.policy, options.random, log),
    totals,
    emit: host.emit,
    get ledger() {
      return ledger
    },
    reschedule: host.reschedule
  }
  fates = new EntryFates(context)
  deliveries = new Deliveries(context, fates)
  const reset = (): void => {
    index.clear()
    scheduler.clear()
    health.reset()
    Object.assign(totals, { delivered: 0, failedAttempts: 0, abandoned: 0, expired: 0 })
  }
  return { context, index, scheduler, fates, deliveries, health, totals, renewLedger, reset }
}

import type { Clock } from './clock.js'
import { describeError } from './errors.js'
import type { Logger } from './logger.js'
import type { Emit } from './outbox-context.js'

/** First wait before a failed store is written to again, doubled up to `STORE_RETRY_MAX`. */
export const STORE_RETRY_INITIAL = 1_000
export const STORE_RETRY_MAX = 30_000

/**
 * Whether the store takes writes. After a failed batch the store is
 * unhealthy: persisted sends are refused (`StoreUnavailableError`) and the
 * ledger is told to write again after a wait that doubles from 1 s to 30 s,
 * until a batch lands.
 */
export class StoreHealth {
  healthy = true
  private delay = STORE_RETRY_INITIAL
  private timer: unknown

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly emit: Emit,
    private readonly retry: () => void
  ) {}

  failed(error: unknown): void {
    if (!this.healthy) this.delay = Math.min(STORE_RETRY_MAX, this.delay * 2)
    this.healthy = false
    this.log.error('store write failed (next try in %d ms): %s', this.delay, describeError(error))
    this.emit('store-error', () => ({ error, recovered: false }))
    if (this.timer !== undefined) return
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined
      this.retry()
    }, this.delay)
  }

  recovered(): void {
    if (this.healthy) return
    this.healthy = true
    this.delay = STORE_RETRY_INITIAL
    this.clear()
    this.log('store recovered')
    this.emit('store-error', () => ({ error: undefined, recovered: true }))
  }

  /** Cancels a pending retry. */
  clear(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
  }

  reset(): void {
    this.clear()
    this.healthy = true
    this.delay = STORE_RETRY_INITIAL
  }
}

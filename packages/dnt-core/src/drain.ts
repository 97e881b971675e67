import type { OutboxStoppedError } from './errors.js'
import { keepAlive, untilAborted } from './waiting.js'

/** Who waits for the outbox to hold nothing, and whether `drained` was already said. */
export class Drain {
  private waiters: Array<{ resolve(): void; reject(error: unknown): void }> = []
  private said = true

  /** Something was queued: the next empty outbox is news again. */
  dirty(): void {
    this.said = false
  }

  /** The outbox is empty (and running): wake the waiters once; true when this is news. */
  empty(): boolean {
    if (this.said) return false
    this.said = true
    for (const waiter of this.waiters.splice(0)) waiter.resolve()
    return true
  }

  /** Waits for `empty()`, keeping the process alive; rejects when `signal` aborts. */
  wait(signal: AbortSignal | undefined): Promise<void> {
    const drained = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }))
    return keepAlive(untilAborted(drained, signal))
  }

  /** The outbox stopped: every waiter gets `OutboxStoppedError`. */
  stop(error: OutboxStoppedError): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error)
  }

  /** A fresh start: empty is not news until something is queued. */
  reset(empty: boolean): void {
    this.said = empty
  }
}

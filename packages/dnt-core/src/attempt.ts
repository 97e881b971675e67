import type { Clock } from './clock.js'
import {
  DeliveryFailedError,
  DeliveryRejectedError,
  OutboxStoppedError,
  PeerUnreachableError,
  UndeliverableError
} from './errors.js'
import type { PendingEntry } from './pending-entry.js'
import type { Transport } from './types.js'

/**
 * What one delivery attempt came to:
 * - `delivered`: the peer has it;
 * - `unreachable`: no connection (or an error the transport did not classify): the peer backs off,
 *   every entry queued to it is charged one attempt;
 * - `failed`: the peer was reached, this message did not get through: the peer backs off, this
 *   message is charged;
 * - `rejected` / `undeliverable`: final for this message;
 * - `stopped`: the outbox stopped during the attempt: this message is charged;
 * - `cancelled`: the sender aborted before the outbox accepted the message.
 */
export type AttemptOutcome =
  | { kind: 'delivered'; reply?: Uint8Array }
  | { kind: 'unreachable' | 'failed' | 'rejected' | 'undeliverable'; error: unknown }
  | { kind: 'stopped' }
  | { kind: 'cancelled'; error: unknown }

/** Sorts a delivery error into the outcome the outbox acts on. */
export function classifyFailure(error: unknown): AttemptOutcome['kind'] {
  if (DeliveryRejectedError.isInstance(error)) return 'rejected'
  if (UndeliverableError.isInstance(error)) return 'undeliverable'
  if (DeliveryFailedError.isInstance(error)) return 'failed'
  return 'unreachable'
}

type AbortCause = 'timeout' | 'stop' | 'cancel'

/** What an attempt needs to run. */
export interface AttemptContext {
  transport: Transport
  clock: Clock
  /** ms before the attempt is aborted and counted as `unreachable`. */
  timeout: number
  onOutcome(attempt: Attempt, outcome: AttemptOutcome): void
}

/** One delivery of one entry, with its timeout, and a way to stop or cancel it. */
export class Attempt {
  readonly controller = new AbortController()
  /** Resolves once the outcome was handed over; never rejects. */
  readonly settled: Promise<void>
  private cause: AbortCause | undefined
  private readonly timer: unknown

  constructor(
    readonly entry: PendingEntry,
    /** The peer's failure round this attempt was started in. */
    readonly round: number,
    /** Started early because the peer became reachable, not because its backoff ended. */
    readonly early: boolean,
    private readonly context: AttemptContext
  ) {
    const { clock, timeout, transport } = context
    this.timer = clock.setTimeout(() => {
      this.abort(
        'timeout',
        new PeerUnreachableError(`delivery to ${entry.peer} timed out after ${timeout} ms`)
      )
    }, timeout)
    this.settled = raceAbort(
      () => transport.deliver(entry.toEntry(), { signal: this.controller.signal }),
      this.controller.signal
    ).then(
      (receipt) => {
        const reply = (receipt as { reply?: unknown } | undefined)?.reply
        this.finish(
          reply instanceof Uint8Array ? { kind: 'delivered', reply } : { kind: 'delivered' }
        )
      },
      (error: unknown) => this.finish(this.failure(error))
    )
  }

  /** Aborts because the outbox stops. */
  stop(): void {
    this.abort('stop', new OutboxStoppedError('outbox stopped during delivery'))
  }

  /** Aborts because the sender gave up before the message was accepted. */
  cancel(reason: unknown): void {
    this.abort('cancel', reason)
  }

  private abort(cause: AbortCause, reason: unknown): void {
    if (this.controller.signal.aborted) return
    this.cause = cause
    this.controller.abort(reason)
  }

  private failure(error: unknown): AttemptOutcome {
    if (this.cause === 'stop') return { kind: 'stopped' }
    if (this.cause === 'cancel') return { kind: 'cancelled', error }
    return { kind: classifyFailure(error), error } as AttemptOutcome
  }

  private finish(outcome: AttemptOutcome): void {
    this.context.clock.clearTimeout(this.timer)
    this.context.onOutcome(this, outcome)
  }
}

/** Runs `task`, settling early with the signal's reason when it aborts first. */
export function raceAbort<T>(task: () => Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    if (signal.aborted) {
      onAbort()
      return
    }
    signal.addEventListener('abort', onAbort, { once: true })
    let promise: Promise<T>
    try {
      promise = task()
    } catch (error) {
      promise = Promise.reject(error)
    }
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      }
    )
  })
}

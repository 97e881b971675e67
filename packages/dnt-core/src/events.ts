import type { Entry } from './types.js'

/** What each event of an `Outbox` carries in `event.detail`. */
export interface OutboxEvents {
  /** An entry waits for a later attempt (durable when its level persists). */
  queued: { entry: Entry }
  /** An entry reached its peer. */
  delivered: { entry: Entry; attempts: number }
  /** An attempt round to a peer failed; `queued` entries wait until `nextAttemptAt`. */
  'attempt-failed': {
    peer: string
    error: unknown
    queued: number
    failures: number
    nextAttemptAt: number
  }
  /** An entry ran out of retries or was refused by the receiver; it left the queue. */
  abandoned: {
    entry: Entry
    reason: 'exhausted' | 'rejected'
    error?: unknown
    deadLetter: boolean
  }
  /** An entry's TTL passed before it was delivered; it left the queue. */
  expired: { entry: Entry; deadLetter: boolean }
  /** The transport reported the peer reachable. */
  'peer-reachable': { peer: string }
  /** `purge()` removed these entries (queued or dead-lettered). */
  purged: { entries: Entry[] }
  /** Nothing is queued any more. */
  drained: Record<string, never>
  /** A store write failed; persisted sends are refused until a write succeeds again. */
  'store-error': { error: unknown; recovered: boolean }
}

/** The name of an event the `Outbox` emits. */
export type OutboxEventName = keyof OutboxEvents

/** `EventTarget` with typed `addEventListener` and cheap "does anyone listen" checks. */
// biome-ignore lint/suspicious/noExplicitAny: any event map shape is accepted
export class TypedEventTarget<Events extends { [K in keyof Events]: any }> extends EventTarget {
  private readonly counts = new Map<string, number>()

  override addEventListener<K extends keyof Events & string>(
    type: K,
    listener: ((event: CustomEvent<Events[K]>) => void) | EventListenerObject | null,
    options?: boolean | AddEventListenerOptions
  ): void {
    if (listener != null) this.counts.set(type, (this.counts.get(type) ?? 0) + 1)
    super.addEventListener(type, listener as EventListener, options)
  }

  override removeEventListener<K extends keyof Events & string>(
    type: K,
    listener: ((event: CustomEvent<Events[K]>) => void) | EventListenerObject | null,
    options?: boolean | EventListenerOptions
  ): void {
    if (listener != null) this.counts.set(type, Math.max(0, (this.counts.get(type) ?? 0) - 1))
    super.removeEventListener(type, listener as EventListener, options)
  }

  /** Whether anything listens to `type` (events are only built for listeners). */
  listens(type: keyof Events & string): boolean {
    return (this.counts.get(type) ?? 0) > 0
  }

  /** Dispatches when someone listens; `detail` is only built then. */
  emit<K extends keyof Events & string>(type: K, detail: () => Events[K]): void {
    if (!this.listens(type)) return
    this.dispatchEvent(new CustomEvent(type, { detail: detail() }))
  }
}

import type { Logger } from '@dntkit/core'

/** What a warning is about. */
export type StoreWarningCode =
  /** A damaged last journal record (an interrupted append) was cut off on open. */
  | 'torn-tail'
  /** Unreadable store files were moved aside (`quarantine: true`) and the store started empty. */
  | 'quarantined'
  /** A lock file left by a dead process was taken over. */
  | 'stale-lock'
  /** Writing a snapshot failed; the journal keeps everything and compaction is retried later. */
  | 'compaction-failed'
  /** The existing store directory is accessible to group or others (files are still created 0600). */
  | 'exposed-directory'

/** The `detail` of a `warning` event, also passed to `onWarning`. */
export interface StoreWarning {
  code: StoreWarningCode
  /** One line saying what happened. */
  message: string
  /** The file or directory concerned. */
  file: string
}

/** The events a store emits. */
export interface StoreEvents {
  warning: CustomEvent<StoreWarning>
}

/** An `EventTarget` typed with `StoreEvents`. */
export interface StoreEventTarget extends EventTarget {
  addEventListener<K extends keyof StoreEvents>(
    type: K,
    listener: ((event: StoreEvents[K]) => void) | null,
    options?: boolean | AddEventListenerOptions
  ): void
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions
  ): void
  removeEventListener<K extends keyof StoreEvents>(
    type: K,
    listener: ((event: StoreEvents[K]) => void) | null,
    options?: boolean | EventListenerOptions
  ): void
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions
  ): void
}

/** Base of the store classes: logs a warning, calls `onWarning`, then dispatches the event. */
export class WarningEmitter extends EventTarget {
  constructor(
    protected readonly log: Logger,
    private readonly onWarning?: (warning: StoreWarning) => void
  ) {
    super()
  }

  protected warn(code: StoreWarningCode, file: string, message: string): void {
    const warning: StoreWarning = { code, message, file }
    this.log('warning %s: %s', code, message)
    try {
      this.onWarning?.(warning)
    } catch (error) {
      this.log.error('onWarning threw: %s', (error as Error)?.message)
    }
    this.dispatchEvent(new CustomEvent('warning', { detail: warning }))
  }
}

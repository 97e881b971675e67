import type { Logger } from '@dntkit/core'
import { AbstractStore } from '@dntkit/core/plugin'

/** What a warning is about. */
export type StoreWarningCode =
  /**
   * The newest journal ends inside a record (an interrupted append): cut off
   * by an open for writing, the cut bytes kept in `<journal>.torn-<time>`;
   * left as it is by a read-only open.
   */
  | 'torn-tail'
  /**
   * `onCorrupt: 'quarantine'` met damage: the damaged files were kept as
   * `<name>.corrupt-<time>` and the store rebuilt from every record that
   * still authenticates (read-only: nothing moved, those entries returned).
   */
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

/** What the stores of this package are made with, besides their own options. */
export interface WarningStoreInit {
  name: string
  readOnly: boolean
  log: Logger
  onWarning?: ((warning: StoreWarning) => void) | undefined
}

/** Base of the stores of this package: an `AbstractStore` that logs and emits warnings. */
export abstract class WarningStore extends AbstractStore {
  protected readonly log: Logger
  private readonly onWarning: ((warning: StoreWarning) => void) | undefined

  protected constructor(init: WarningStoreInit) {
    super({ name: init.name, readOnly: init.readOnly })
    this.log = init.log
    this.onWarning = init.onWarning
  }

  /** Logs the warning, calls `onWarning`, then dispatches the `warning` event. */
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

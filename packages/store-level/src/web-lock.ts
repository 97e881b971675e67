import { StoreClosedError, StoreLockedError } from '@dntkit/core'
import type { HeldLock } from './platform.js'

/** The part of the Web Locks API (`navigator.locks`) the store uses. */
export interface WebLocks {
  request(
    name: string,
    options: { ifAvailable?: boolean; signal?: AbortSignal },
    callback: (lock: unknown) => Promise<unknown>
  ): Promise<unknown>
}

/** `navigator.locks` of this window or worker, when the context has one (secure contexts only). */
export function webLocks(): WebLocks | undefined {
  const navigator = (globalThis as { navigator?: { locks?: WebLocks } }).navigator
  const locks = navigator?.locks
  return locks != null && typeof locks.request === 'function' ? locks : undefined
}

/**
 * Takes the exclusive Web Lock `name` and holds it until `release()`. The
 * browser lets it go by itself when the tab or worker that holds it goes away,
 * so a closed tab never leaves a store locked.
 *
 * `fail`: rejects at once with `StoreLockedError` when another tab, worker or
 * store of this origin holds it. `wait`: queues for it; `signal` aborting
 * meanwhile rejects with `StoreClosedError` and leaves the queue.
 */
export function acquireWebLock(
  locks: WebLocks,
  name: string,
  mode: 'fail' | 'wait',
  options: { signal: AbortSignal; where: string }
): Promise<HeldLock> {
  const { signal, where } = options
  const closed = (): StoreClosedError =>
    new StoreClosedError(`${where} was closed while waiting for its lock`, {
      cause: signal.reason
    })
  if (signal.aborted) return Promise.reject(closed())
  return new Promise<HeldLock>((resolve, reject) => {
    let release: () => void = () => {}
    const held = new Promise<void>((resolveHeld) => {
      release = resolveHeld
    })
    const request = locks.request(
      name,
      // the API refuses a signal together with ifAvailable
      mode === 'fail' ? { ifAvailable: true } : { signal },
      async (lock) => {
        if (lock == null) {
          reject(
            new StoreLockedError(
              `${where} is locked: another tab, worker or store of this origin has it open (Web Lock "${name}"); pass lock: 'wait' to wait for it`
            )
          )
          return
        }
        if (signal.aborted) {
          reject(closed())
          return
        }
        resolve({ release })
        await held
      }
    )
    request.catch((error: unknown) => {
      reject(signal.aborted ? closed() : error)
    })
  })
}

import { raceAbort } from './attempt.js'
import { PeerUnreachableError } from './errors.js'
import { createId } from './id.js'
import type { ResolvedOutboxInit } from './outbox-options.js'
import { PendingEntry } from './pending-entry.js'
import type { Message } from './types.js'

/**
 * Level `none`: one attempt, bounded by the attempt timeout and the caller's
 * signal; its error goes to the caller and nothing is kept.
 */
export async function deliverOnce(
  options: ResolvedOutboxInit,
  message: Message,
  signal: AbortSignal | undefined
): Promise<{ id: string; status: 'delivered' }> {
  const { clock, attemptTimeout, transport } = options
  const now = clock.now()
  const entry = new PendingEntry(message, message.id ?? createId(now), 'none', now)
  const controller = new AbortController()
  const timer = clock.setTimeout(() => {
    controller.abort(
      new PeerUnreachableError(`delivery to ${message.peer} timed out after ${attemptTimeout} ms`)
    )
  }, attemptTimeout)
  const onAbort = (): void => controller.abort(signal?.reason)
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    await raceAbort(
      () => transport.deliver(entry.toEntry(), { signal: controller.signal }),
      controller.signal
    )
    return { id: entry.id, status: 'delivered' }
  } finally {
    clock.clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}

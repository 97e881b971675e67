import type { OutboxContext } from './outbox-context.js'
import { keepAlive } from './waiting.js'

/**
 * A peer the transport reports reachable (when the policy says
 * `flushOnReachable`): backing off, it is attempted at once, at most once per
 * backoff window; with an attempt running, that attempt, if it finds no
 * connection, is followed at once by the window's early one. Its failure count
 * is kept: only a delivery resets it.
 */
export function onPeerReachable(context: OutboxContext, peer: string): void {
  const queue = context.index.peers.get(peer)
  if (queue === undefined || queue.size === 0) return
  if (queue.retryAt <= context.scheduler.now()) {
    if (queue.inFlight > 0 && !queue.earlyUsed) queue.reachableDuringAttempt = true
    return
  }
  if (queue.earlyUsed) {
    context.log.trace('peer %s reachable again: its early attempt of this window was made', peer)
    return
  }
  queue.earlyUsed = true
  queue.earlyPending = true
  queue.retryAt = 0
  context.reschedule(queue)
}

/** `flush()`: the queues (of `peer`, or all) attempted now, ignoring backoff; resolves when each round ended. */
export async function flushNow(context: OutboxContext, peer: string | undefined): Promise<void> {
  const { peers } = context.index
  const queues = peer === undefined ? Array.from(peers.values()) : [peers.get(peer)]
  const rounds: Promise<void>[] = []
  for (const queue of queues) {
    if (queue === undefined || queue.size === 0) continue
    rounds.push(new Promise<void>((resolve) => queue.roundWaiters.push(resolve)))
    queue.retryAt = 0
    context.reschedule(queue)
  }
  await keepAlive(Promise.all(rounds))
}

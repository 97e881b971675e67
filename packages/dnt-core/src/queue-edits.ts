import type { EntryFates } from './entry-fates.js'
import { describeError, StoreUnavailableError } from './errors.js'
import { rejectUnknownOptions } from './option-names.js'
import type { OutboxContext } from './outbox-context.js'
import { peerText } from './outgoing-message.js'
import type { PeerQueue } from './peer-queue.js'
import { PendingEntry } from './pending-entry.js'
import type { PeerIdLike } from './types.js'

/** Which entries `purge()` removes: by id, all of one peer (a string or a `PeerId`), or all. */
export type PurgeSelector = { ids: string[] } | { peer: string | PeerIdLike } | { all: true }

type Selection = { ids: Set<string> } | { peer: string } | { all: true }

/** Checks a `purge()` selector: exactly one of `ids`, `peer`, `all: true`; `TypeError` naming what is wrong. */
function selectionOf(selector: PurgeSelector): Selection {
  if (selector == null || typeof selector !== 'object') {
    throw new TypeError('purge() takes { ids: string[] }, { peer } or { all: true }')
  }
  rejectUnknownOptions(selector, ['ids', 'peer', 'all'], 'purge() selector')
  const given = (['ids', 'peer', 'all'] as const).filter(
    (name) => (selector as Record<string, unknown>)[name] !== undefined
  )
  if (given.length !== 1) {
    throw new TypeError(
      `purge() takes exactly one of ids, peer or all (got ${given.length === 0 ? 'none' : given.join(', ')})`
    )
  }
  if ('ids' in selector && selector.ids !== undefined) {
    if (!Array.isArray(selector.ids) || selector.ids.some((id) => typeof id !== 'string')) {
      throw new TypeError('purge() selector ids must be an array of strings')
    }
    return { ids: new Set(selector.ids) }
  }
  if ('peer' in selector && selector.peer !== undefined) {
    return { peer: peerText(selector.peer, 'purge() selector peer') }
  }
  if ((selector as { all?: unknown }).all !== true) {
    throw new TypeError('purge() selector all must be true')
  }
  return { all: true }
}

function sumByPeer(entries: PendingEntry[]): Map<string, { entries: number; bytes: number }> {
  const sums = new Map<string, { entries: number; bytes: number }>()
  for (const entry of entries) {
    const sum = sums.get(entry.peer) ?? { entries: 0, bytes: 0 }
    sum.entries++
    sum.bytes += entry.payload.byteLength
    sums.set(entry.peer, sum)
  }
  return sums
}

/**
 * Moves dead letters back to the end of their peers' queues, attempts and age
 * reset. All or nothing: capacity is checked for all of them first, and if
 * their write fails they go back to the dead letters and the call rejects.
 * Requeued entries are held (not attempted) until their write is durable;
 * entries ahead of them not yet written (a first attempt in flight) are
 * written first, so the store keeps each queue's order.
 */
export async function requeue(
  context: OutboxContext,
  fates: EntryFates,
  ids: string[],
  storeHealthy: boolean
): Promise<number> {
  const { index, rules, ledger, options, scheduler, emit } = context
  const found = Array.from(new Set(ids), (id) => index.dead.get(id)).filter(
    (entry): entry is PendingEntry => entry !== undefined
  )
  if (found.length === 0) return 0
  if (!storeHealthy && found.some((entry) => rules.level(entry.level).persist)) {
    throw new StoreUnavailableError('the store is failing; dead letters cannot be requeued now')
  }
  index.checkTotal(
    found.length,
    found.reduce((sum, entry) => sum + entry.payload.byteLength, 0)
  )
  for (const [peer, sum] of sumByPeer(found)) index.checkPeer(peer, sum.entries, sum.bytes)

  const wallNow = options.clock.now()
  const monotonicNow = scheduler.now()
  const moved = found.map((dead) => {
    index.dead.delete(dead.id)
    const entry = PendingEntry.fromEntry({
      ...dead.toEntry(),
      attempts: 0,
      createdAt: wallNow,
      nextAttemptAt: wallNow,
      lastError: undefined,
      deadLetter: undefined
    })
    entry.stored = dead.stored
    entry.accepted = true
    // a sender still waiting for the dead letter to be durable follows the requeued message instead
    entry.waiter = dead.waiter
    dead.waiter = undefined
    entry.expiresAt = rules.expiresAt(entry, monotonicNow, wallNow)
    const persist = rules.level(entry.level).persist
    entry.held = persist
    const queue = index.queueFor(entry.peer)
    // what is ahead of it in the queue reaches the store first, so the store keeps the queue's order
    fates.acceptAll(queue)
    index.track(queue, entry)
    return {
      dead,
      entry,
      queue,
      write: persist ? ledger.put(entry, { recreate: true }) : Promise.resolve()
    }
  })
  const results = await Promise.allSettled(moved.map((move) => move.write))
  const failure = results.find((result) => result.status === 'rejected')
  if (failure === undefined) {
    for (const { entry, queue } of moved) {
      if (entry.done) continue
      entry.held = false
      emit('queued', () => ({ entry: entry.toEntry() }))
      // whoever waited for it to be durable (a resend of its id) hears queued, as for any queued id
      entry.settle('queued')
      context.reschedule(queue)
    }
    return moved.length
  }
  // the store still holds them as dead letters: so does memory again
  for (const { dead, entry, queue } of moved) {
    if (!entry.done) {
      entry.held = false
      index.untrack(queue, entry)
      dead.waiter = entry.waiter
      entry.waiter = undefined
      index.dead.set(dead.id, dead)
      ledger.putLater(dead)
    }
    context.reschedule(queue)
  }
  const reason = (failure as PromiseRejectedResult).reason
  throw new StoreUnavailableError(
    `requeue of ${moved.length} dead letters was not written (${describeError(reason)}); they stay dead letters`,
    { cause: reason }
  )
}

/**
 * Removes queued and dead-lettered entries, and replies not taken yet, from memory at once and from the
 * store once durable (an entry in flight finishes its attempt, whose outcome
 * is then ignored). Resolves with how many were removed.
 */
export async function purge(context: OutboxContext, selector: PurgeSelector): Promise<number> {
  const { index, ledger, emit } = context
  const selection = selectionOf(selector)
  const matches = (entry: PendingEntry): boolean =>
    'all' in selection
      ? true
      : 'peer' in selection
        ? entry.peer === selection.peer
        : selection.ids.has(entry.id)
  const removed: PendingEntry[] = []
  const writes: Promise<void>[] = []
  const touched = new Set<PeerQueue>()
  for (const queue of Array.from(index.peers.values())) {
    for (const entry of Array.from(queue.entries())) {
      if (!matches(entry)) continue
      entry.held = false
      index.untrack(queue, entry)
      writes.push(ledger.remove(entry))
      entry.settle('abandoned')
      removed.push(entry)
      touched.add(queue)
    }
  }
  for (const held of [index.dead, index.replies]) {
    for (const entry of Array.from(held.values())) {
      if (!matches(entry)) continue
      held.delete(entry.id)
      writes.push(ledger.remove(entry))
      removed.push(entry)
    }
  }
  for (const queue of touched) context.reschedule(queue)
  if (removed.length > 0) {
    emit('purged', () => ({ entries: removed.map((entry) => entry.toEntry()) }))
  }
  await Promise.all(writes)
  return removed.length
}

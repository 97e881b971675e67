import { definePolicy, type Entry, Outbox, StoreLockedError } from '@dntkit/core'
import { levelStore } from '@dntkit/store-level'
import { libp2pTransport } from '@dntkit/transport-libp2p'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { View } from './view.js'

/** The IndexedDB database of the outbox (one per origin). */
export const STORE_NAME = 'dntkit-example-outbox'

/** The protocol the messages go out on; `dnt listen --protocol` names the same. */
export const PROTOCOL = '/dntkit-example/chat/1.0.0'

/**
 * Every message is `critical` (persisted, retried until delivered); retries
 * back off from 0.5 s up to 3 s, so the page reacts quickly when the receiver
 * comes up (a browser node is rarely dialled back, so `peer:connect` cannot
 * tell it). An application picks what suits its peers.
 */
const policy = definePolicy({
  levels: {
    critical: {
      backoff: { type: 'exponential', initial: 500, max: 3_000, factor: 2, jitter: 'full' }
    }
  }
})

const decoder = new TextDecoder()
const textOf = (entry: Entry): string => decoder.decode(entry.payload)

/**
 * Opens the page's outbox: the level store in IndexedDB, sealed with a key
 * derived from the node's `privateKey` (a new identity cannot read it), through the libp2p transport in envelope mode. Another tab
 * holding the store makes `lock: 'fail'` throw `StoreLockedError`; with
 * `wait` the page says so and takes over when that tab closes.
 */
export async function openOutbox(
  node: Libp2p,
  privateKey: PrivateKey,
  lock: 'wait' | 'fail',
  view: View
): Promise<Outbox> {
  const transport = libp2pTransport(node, { mode: 'envelope' })
  const create = (mode: 'wait' | 'fail'): Outbox =>
    new Outbox({
      transport,
      policy,
      store: levelStore({ location: STORE_NAME, privateKey, lock: mode })
    })
  let outbox = create('fail')
  try {
    await outbox.start()
  } catch (error) {
    if (!StoreLockedError.isInstance(error) || lock === 'fail') throw error
    view.setState('waiting', 'another tab holds the outbox: this tab takes over when it closes')
    outbox = create('wait')
    await outbox.start()
  }
  follow(outbox, view)
  return outbox
}

/** Shows what the outbox holds now and every change from here on. */
function follow(outbox: Outbox, view: View): void {
  for (const entry of outbox.entries()) view.setMessage(entry.id, textOf(entry), 'queued')
  for (const entry of outbox.deadLetters()) {
    view.setMessage(entry.id, textOf(entry), 'dead', {
      reason: entry.deadLetter?.reason,
      error: entry.lastError
    })
  }
  outbox.addEventListener('queued', ({ detail }) => {
    view.setMessage(detail.entry.id, textOf(detail.entry), 'queued')
  })
  outbox.addEventListener('delivered', ({ detail }) => {
    view.setMessage(detail.entry.id, textOf(detail.entry), 'delivered')
    view.clearAttemptError()
  })
  outbox.addEventListener('abandoned', ({ detail }) => {
    view.setMessage(detail.entry.id, textOf(detail.entry), detail.deadLetter ? 'dead' : 'dropped', {
      reason: detail.reason,
      error: detail.error
    })
  })
  outbox.addEventListener('expired', ({ detail }) => {
    view.setMessage(detail.entry.id, textOf(detail.entry), detail.deadLetter ? 'dead' : 'dropped', {
      reason: 'expired'
    })
  })
  outbox.addEventListener('attempt-failed', ({ detail }) => view.showAttemptError(detail.error))
  outbox.addEventListener('store-error', ({ detail }) => {
    if (detail.recovered) view.clearError()
    else view.showError(detail.error, 'store: ')
  })
}

import { createId } from './id.js'
import { normalizeMessage } from './outgoing-message.js'
import type { Entry, OutgoingMessage } from './types.js'
import { validateEntry } from './validate.js'

/**
 * The entry the outbox would make of `message` under `level`, for an
 * application that writes it to the store in its own batch and hands it to
 * `Outbox.adopt()` once that batch is durable. `now`: ms since the epoch
 * (default `Date.now()`); the id is the message's, or a new time-sortable one.
 * The peer and addresses may be a `PeerId` and `Multiaddr`s, as for `send()`.
 */
export function createEntry(
  outgoing: OutgoingMessage,
  level: string,
  now: number = Date.now()
): Entry {
  const message = normalizeMessage(outgoing)
  const entry: Entry = {
    id: message.id ?? createId(now),
    peer: message.peer,
    protocol: message.protocol,
    payload: message.payload,
    level,
    attempts: 0,
    createdAt: now,
    nextAttemptAt: now
  }
  if (message.addrs !== undefined) entry.addrs = message.addrs
  if (message.meta !== undefined) entry.meta = message.meta
  validateEntry(entry, 'entry')
  return entry
}

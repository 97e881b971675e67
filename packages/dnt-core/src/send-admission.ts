import { DuplicateIdError, MessageTooLargeError, StoreUnavailableError } from './errors.js'
import { createId } from './id.js'
import type { OutboxContext } from './outbox-context.js'
import type { PeerQueue } from './peer-queue.js'
import { PendingEntry, type SendStatus } from './pending-entry.js'
import { messageFingerprint } from './recent-deliveries.js'
import type { Message } from './types.js'

/** How a `send()` ended: its status, and the receiver's reply when it gave one. */
export interface SendOutcome {
  status: SendStatus
  reply?: Uint8Array
}

/** What a resent id is answered: the earlier result, or a wait for the same outcome. */
export type EarlierResult = SendOutcome | Promise<SendOutcome>

/** A promise of what `entry`'s waiters will be told. */
export function outcomeOf(entry: PendingEntry): Promise<SendOutcome> {
  return new Promise<SendOutcome>((resolve, reject) =>
    entry.addWaiter({
      resolve: (status, reply) => resolve(reply === undefined ? { status } : { status, reply }),
      reject
    })
  )
}

/**
 * One id means one message. An id that is queued, in flight, dead-lettered or
 * recently delivered, sent again with the same peer, protocol and payload, is
 * answered as the first send was (`queued`, the outcome the first send still
 * waits for, `abandoned`, `delivered`); with anything else it throws
 * `DuplicateIdError`. Returns `undefined` for an id the outbox does not know.
 */
export function earlierSend(context: OutboxContext, message: Message): EarlierResult | undefined {
  const id = message.id
  if (id === undefined) return undefined
  const { index } = context
  const duplicate = (where: string): never => {
    throw new DuplicateIdError(
      `message id "${id}" is ${where} with another peer, protocol or payload; an id names one message`
    )
  }
  const queued = index.byId.get(id)
  if (queued !== undefined) {
    if (!queued.sameMessage(message.peer, message.protocol, message.payload)) {
      duplicate('already queued')
    }
    if (queued.accepted && !queued.held) return { status: 'queued' }
    return outcomeOf(queued)
  }
  const dead = index.dead.get(id)
  if (dead !== undefined) {
    if (!dead.sameMessage(message.peer, message.protocol, message.payload)) {
      duplicate('a dead letter')
    }
    return { status: 'abandoned' }
  }
  const answered = index.replies.get(id)
  if (answered !== undefined) {
    if (!answered.sameMessage(message.peer, message.protocol, message.payload)) {
      duplicate('already delivered')
    }
    return { status: 'delivered', reply: (answered.delivered as { reply: Uint8Array }).reply }
  }
  const delivered = index.delivered.get(id)
  if (delivered !== undefined) {
    const fingerprint = messageFingerprint(message.peer, message.protocol, message.payload)
    if (fingerprint !== delivered) duplicate('already delivered')
    return { status: 'delivered' }
  }
  return undefined
}

/**
 * Checks that a new entry of `levelName` fits (payload size, store health,
 * capacity), then makes it and puts it at the end of its peer's queue.
 */
export function admit(
  context: OutboxContext,
  message: Message,
  levelName: string,
  storeHealthy: boolean
): { entry: PendingEntry; queue: PeerQueue } {
  const { index, options, rules, scheduler } = context
  const bytes = message.payload.byteLength
  const { maxPayloadBytes } = options.limits
  if (bytes > maxPayloadBytes) {
    throw new MessageTooLargeError(
      `payload of ${bytes} bytes to ${message.peer} exceeds the maximum of ${maxPayloadBytes} bytes`
    )
  }
  if (rules.level(levelName).persist && !storeHealthy) {
    throw new StoreUnavailableError(
      'the store is failing; persisted messages are refused until it recovers'
    )
  }
  index.checkCapacity(message.peer, bytes)
  const wallNow = options.clock.now()
  const entry = new PendingEntry(message, message.id ?? createId(wallNow), levelName, wallNow)
  entry.expiresAt = rules.expiresAt(entry, scheduler.now(), wallNow)
  const queue = index.queueFor(message.peer)
  index.track(queue, entry)
  return { entry, queue }
}

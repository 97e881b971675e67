import type { Entry } from '../../src/index.js'
import type { Model } from './model.js'
import { type Incarnation, LEVELS } from './world.js'

/**
 * A new incarnation opened the store. Whatever was accepted durably is
 * back; memory-only messages are gone; after a crash (or a stop that gave up
 * on the store) messages not yet acknowledged may or may not be back, and a
 * delivered one may come back once more.
 */
export function checkRestored(
  model: Model,
  incarnation: Incarnation,
  stored: Entry[],
  unclean: boolean
): void {
  const onDisk = new Map(stored.map((entry) => [entry.id, entry]))
  // the order check compares what was durably queued; an unacknowledged send under an old id
  // (or a requeue not yet durable) may find that old record back instead, in the old record's place
  const wasQueued = new Set(
    Array.from(model.messages.values())
      .filter((message) => message.status === 'queued' && !message.requeuing)
      .map((message) => message.id)
  )
  for (const message of model.messages.values()) {
    const entry = onDisk.get(message.id)
    if (entry?.delivered === undefined && message.replyPending === true) {
      // a reply owed: kept by a clean stop; after a crash the message may come back to be sent again
      if (!unclean && LEVELS[message.level].persist)
        model.violation(`LOST: the reply of ${message.id}`)
      message.replyPending = false
    }
    if (entry?.delivered !== undefined) {
      model.settle(message, 'delivered')
      message.replyPending = true
      message.durable = true
      // the restarted outbox knows the id from its stored reply
      message.deliveredIn = incarnation.number
      continue
    }
    if (entry === undefined) {
      const persisted = LEVELS[message.level].persist
      if (message.status === 'queued' && persisted && message.durable) {
        model.violation(
          `LOST: ${message.id} was queued durably and is not in the store after a restart`
        )
      }
      if (message.status === 'dead' && persisted && (message.durable || !unclean)) {
        model.violation(`LOST: dead letter ${message.id}`)
      }
      if (message.status === 'dead') model.settle(message, 'gone')
      if (model.isLive(message) || message.status === 'maybe') model.settle(message, 'gone')
      continue
    }
    if (entry.deadLetter !== undefined) {
      if (message.status !== 'dead' && !unclean) {
        model.violation(`${message.id} came back as a dead letter though it was ${message.status}`)
      }
      if (message.status !== 'dead') message.resurrected = true
      model.settle(message, 'dead')
      message.durable = true
      message.payload = new TextDecoder().decode(entry.payload)
      continue
    }
    // a finite budget is durable: after a clean stop the store has every attempt spent
    const finite = LEVELS[message.level].maxRetries !== Infinity
    if (finite && !unclean && message.status === 'queued' && entry.attempts < message.calls) {
      model.violation(
        `${message.id}: ${message.calls} attempts spent, the store says ${entry.attempts}`
      )
    }
    message.calls = entry.attempts
    message.restoredAttempts = entry.attempts
    message.since = incarnation.world.tick
    message.sentAt = -1
    message.durable = true
    message.arrived = false
    message.payload = new TextDecoder().decode(entry.payload)
    if (message.status === 'delivered') {
      if (!unclean) model.violation(`${message.id} was delivered and came back after a clean stop`)
      model.mayRedeliver.add(message.id)
    } else if (message.status !== 'queued' && !unclean && message.status !== 'maybe') {
      model.violation(`${message.id} came back though it was ${message.status}`)
    }
    message.status = 'queued'
    // the old life's send() calls are over: a later reply is kept for takeReply()
    message.sendSettled = true
  }
  // FIFO after a restart: the store's order, which must agree with the model's for each peer
  for (const [peer, list] of model.order) {
    const restoredOrder = stored
      .filter((entry) => entry.peer === peer && entry.deadLetter === undefined)
      .map((entry) => entry.id)
    const before = list.filter((id) => restoredOrder.includes(id) && wasQueued.has(id))
    const after = restoredOrder.filter((id) => list.includes(id) && wasQueued.has(id))
    if (before.join() !== after.join()) {
      model.violation(
        `store order of ${peer} after restart: ${after.join()} (memory had ${before.join()})`
      )
    }
    model.order.set(peer, restoredOrder)
  }
  for (const entry of stored) {
    if (entry.deadLetter === undefined && !model.order.get(entry.peer)?.includes(entry.id)) {
      model.order.set(entry.peer, [...(model.order.get(entry.peer) ?? []), entry.id])
    }
  }
}

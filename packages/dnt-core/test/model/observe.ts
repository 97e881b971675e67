import type { Model } from './model.js'
import { type Incarnation, LEVELS, World } from './world.js'

/** Follows an incarnation's events into the model, checking that each removal is one the rules allow. */
export function observe(model: Model, world: World, incarnation: Incarnation): void {
  const { outbox } = incarnation
  const current = () => !incarnation.dead && model.incarnation === incarnation.number
  const lastOutcome = (id: string) => world.calls.filter((call) => call.id === id).at(-1)?.outcome
  outbox.addEventListener('delivered', (event) => {
    if (!current()) return
    const { entry, reply } = event.detail
    const message = model.messages.get(entry.id)
    if (message === undefined) return
    const expected = new TextDecoder().decode(World.replyTo(entry.id))
    if (reply === undefined || new TextDecoder().decode(reply) !== expected) {
      model.violation(
        `${entry.id}: delivered with reply ${reply && new TextDecoder().decode(reply)}`
      )
    }
    model.settle(message, 'delivered')
    message.deliveredIn = incarnation.number
    // nobody waits for this one any more: the outbox must keep its reply for takeReply()
    if (message.sendSettled === true) message.replyPending = true
  })
  outbox.addEventListener('abandoned', (event) => {
    if (!current()) return
    const { entry, reason, deadLetter } = event.detail
    const message = model.messages.get(entry.id)
    if (message === undefined) return
    const outcome = lastOutcome(entry.id)
    if (message.arrived === true)
      model.violation(`${entry.id} abandoned (${reason}) after it arrived`)
    if (world.onTheWire(entry.id, message.firstCall))
      model.violation(`${entry.id} abandoned (${reason}) while its attempt is in flight`)
    if (reason === 'exhausted') model.checkBudget(world, message, incarnation.number)
    if (reason === 'exhausted' && LEVELS[message.level].maxRetries === Infinity) {
      model.violation(`${entry.id} (${message.level}) abandoned as exhausted`)
    }
    if (reason === 'rejected' && outcome !== 'reject') {
      model.violation(`${entry.id} abandoned as rejected after ${outcome}`)
    }
    if (reason === 'undeliverable' && outcome !== 'undeliverable') {
      model.violation(`${entry.id} abandoned as undeliverable after ${outcome}`)
    }
    model.settle(message, deadLetter ? 'dead' : 'gone', 'abandoned')
  })
  outbox.addEventListener('expired', (event) => {
    if (!current()) return
    const message = model.messages.get(event.detail.entry.id)
    if (message === undefined) return
    if (LEVELS[message.level].ttl === Infinity)
      model.violation(`${message.id} expired without a TTL`)
    if (world.onTheWire(message.id, message.firstCall))
      model.violation(`${message.id} expired while its attempt is in flight`)
    model.settle(message, event.detail.deadLetter ? 'dead' : 'gone', 'abandoned')
  })
  outbox.addEventListener('purged', (event) => {
    if (!current()) return
    for (const entry of event.detail.entries) {
      const message = model.messages.get(entry.id)
      if (message === undefined) continue
      // a delivered message only loses the reply it held; its id stays delivered
      if (message.status === 'delivered') message.replyPending = false
      else model.settle(message, 'gone', 'purge')
    }
  })
}

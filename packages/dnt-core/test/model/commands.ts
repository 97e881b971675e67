import { OutboxStoppedError, StoreUnavailableError } from '../../src/index.js'
import type { Model } from './model.js'
import { observe } from './observe.js'
import { type Command, pick, type Real, sameBytes, step, track } from './real.js'
import { Incarnation, LEVELS, PEERS, type PeerMode, type StoreMode, World } from './world.js'

export type { Real } from './real.js'
export { BurstCommand, SendCommand } from './send-command.js'

export class PeerCommand implements Command {
  constructor(
    readonly peer: number,
    readonly mode: PeerMode | 'connect' | 'release'
  ) {}

  check(): boolean {
    return true
  }

  async run(model: Model, real: Real): Promise<void> {
    const peer = PEERS[this.peer] as string
    if (this.mode === 'connect') real.world.connect(peer)
    else if (this.mode === 'release') real.world.releaseDeliveries()
    else real.world.modes.set(peer, this.mode)
    await step(model, real)
  }

  toString(): string {
    return `peer(${PEERS[this.peer]}, ${this.mode})`
  }
}

export class AdvanceCommand implements Command {
  constructor(readonly ms: number) {}

  check(): boolean {
    return true
  }

  async run(model: Model, real: Real): Promise<void> {
    await real.world.clock.advance(this.ms)
    await step(model, real)
  }

  toString(): string {
    return `advance(${this.ms})`
  }
}

export class StoreCommand implements Command {
  constructor(readonly mode: StoreMode | 'release') {}

  check(): boolean {
    return true
  }

  async run(model: Model, real: Real): Promise<void> {
    const { store } = real.current
    if (this.mode === 'release') {
      store.mode = 'healthy'
      store.release()
    } else {
      store.mode = this.mode
    }
    real.world.storeMode = store.mode
    await step(model, real)
  }

  toString(): string {
    return `store(${this.mode})`
  }
}

export class EditCommand implements Command {
  constructor(
    readonly action:
      | 'purge-id'
      | 'purge-peer'
      | 'requeue'
      | 'pause'
      | 'resume'
      | 'flush'
      | 'take-reply',
    readonly index: number
  ) {}

  check(): boolean {
    return true
  }

  async run(model: Model, real: Real): Promise<void> {
    const { outbox } = real.current
    const message = pick(model, this.index)
    const peer = PEERS[this.index % PEERS.length] as string
    if (this.action === 'purge-id' && message !== undefined) {
      track(real, outbox.purge({ ids: [message.id] }))
    } else if (this.action === 'purge-peer') {
      track(real, outbox.purge({ peer }))
    } else if (this.action === 'requeue' && message?.status === 'dead') {
      const incarnation = real.current
      const requeued = outbox.requeue([message.id])
      // requeue moves it to the end of its peer's queue at once, held until durable
      model.settle(message, 'queued')
      message.requeued = true
      message.requeuing = true
      message.arrived = false
      message.firstCall = real.world.calls.length
      message.calls = 0
      message.since = real.world.tick
      message.sentAt = real.world.tick
      message.restoredAttempts = 0
      model.enqueue(message)
      track(real, requeued)
      requeued.then(
        () => {
          message.requeuing = false
        },
        (error: unknown) => {
          message.requeuing = false
          if (incarnation.dead || model.incarnation !== incarnation.number) return
          if (!StoreUnavailableError.isInstance(error))
            model.violation(`requeue failed: ${String(error)}`)
          model.settle(message, 'dead')
        }
      )
    } else if (this.action === 'take-reply' && message !== undefined) {
      const owed = message.replyPending === true
      message.replyPending = false
      const taking = outbox.takeReply(message.id)
      track(real, taking)
      const incarnation = real.current
      taking.then(
        (reply) => {
          if (incarnation.dead || model.incarnation !== incarnation.number) return
          if (owed && (reply === undefined || !sameBytes(reply, World.replyTo(message.id)))) {
            model.violation(
              `takeReply(${message.id}) gave ${reply === undefined ? 'nothing' : 'another reply'}`
            )
          }
          if (!owed && reply !== undefined)
            model.violation(`takeReply(${message.id}) gave a reply not owed`)
        },
        (error: unknown) => {
          if (incarnation.dead || model.incarnation !== incarnation.number) return
          if (!StoreUnavailableError.isInstance(error) && !OutboxStoppedError.isInstance(error)) {
            model.violation(`takeReply failed: ${String(error)}`)
          }
        }
      )
    } else if (this.action === 'pause') {
      outbox.pause()
    } else if (this.action === 'resume') {
      outbox.resume()
    } else if (this.action === 'flush') {
      track(real, outbox.flush(this.index % 2 === 0 ? undefined : peer))
    }
    await step(model, real)
  }

  toString(): string {
    return `${this.action}(#${this.index})`
  }
}

/** Restart: a clean stop (bounded, on the clock) then a new incarnation; or a crash. */
export class RestartCommand implements Command {
  constructor(readonly how: 'stop' | 'release-and-stop' | 'crash') {}

  check(): boolean {
    return true
  }

  async run(model: Model, real: Real): Promise<void> {
    const old = real.current
    let unclean = this.how === 'crash'
    if (this.how === 'crash') {
      old.crash()
    } else {
      if (this.how === 'release-and-stop') {
        old.store.mode = 'healthy'
        real.world.storeMode = 'healthy'
        old.store.release()
      }
      if (!(await old.stop())) model.violation('stop() did not finish within its bounds')
      await real.world.clock.advance(0)
      if (real.unsettled.size > 0) {
        model.violation(`${real.unsettled.size} sends, flushes or edits never settled after stop()`)
      }
      // writes still hung after stop() gave up never land: that life is over
      unclean = old.store.hanging > 0 || old.store.mode !== 'healthy'
      old.crash()
    }
    real.world.dropDeliveriesOf(old.number)
    model.raise()
    const next = new Incarnation(real.world, old.number + 1, real.perPeerConcurrency)
    real.current = next
    real.unsettled.clear()
    model.incarnation = next.number
    observe(model, real.world, next)
    const stored = await next.store.contents()
    model.restored(real.world, next, stored, unclean)
    await next.outbox.start()
    await step(model, real)
  }

  toString(): string {
    return `restart(${this.how})`
  }
}

/** Heals everything and lets the outbox drain: everything live must end delivered. */
export async function finish(model: Model, real: Real): Promise<void> {
  const { world } = real
  const { outbox, store } = real.current
  store.mode = 'healthy'
  world.storeMode = 'healthy'
  store.release()
  for (const peer of PEERS) world.modes.set(peer, 'up')
  world.releaseDeliveries()
  outbox.resume()
  let drained = false
  void outbox.whenDrained().then(() => {
    drained = true
  })
  for (
    let round = 0;
    round < 60 && !(drained && real.unsettled.size === 0 && outbox.stats().pendingWrites === 0);
    round++
  ) {
    await world.clock.advance(2_000)
  }
  if (!drained) model.violation(`whenDrained() never settled (${outbox.size} queued)`)
  if (real.unsettled.size > 0)
    model.violation(`${real.unsettled.size} sends, flushes or edits never settled`)
  await step(model, real)
  for (const message of model.messages.values()) {
    if (model.isLive(message))
      model.violation(`${message.id} still ${message.status} after draining`)
    if (
      message.status === 'dead' &&
      LEVELS[message.level].maxRetries === Infinity &&
      !message.resurrected
    ) {
      const last = world.calls.filter((call) => call.id === message.id).at(-1)
      if (last?.outcome !== 'reject' && last?.outcome !== 'undeliverable') {
        model.violation(`${message.id} (critical) dead-lettered after ${last?.outcome}`)
      }
    }
  }
  if (!(await real.current.stop())) model.violation('the final stop() did not finish')
  model.raise()
}

import type fc from 'fast-check'
import {
  DeliveryRejectedError,
  DuplicateIdError,
  OutboxStoppedError,
  StoreUnavailableError,
  UndeliverableError
} from '../../src/index.js'
import type { SendStatus } from '../../src/pending-entry.js'
import { bytes } from '../helpers.js'
import type { Model, ModelMessage } from './model.js'
import { observe } from './observe.js'
import {
  Incarnation,
  LEVELS,
  type LevelName,
  PEERS,
  type PeerMode,
  type StoreMode,
  World
} from './world.js'

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, index) => byte === b[index])
}

/** The system under test: the world and the process's current incarnation. */
export interface Real {
  world: World
  current: Incarnation
  perPeerConcurrency: number
  /** Sends and flushes of the current incarnation not settled yet. */
  unsettled: Set<Promise<unknown>>
}

type Command = fc.AsyncCommand<Model, Real>

/** Lets every timer due now fire and every promise chain run, then checks memory (and disk when quiet). */
export async function step(model: Model, real: Real): Promise<void> {
  await real.world.clock.advance(0)
  model.raise()
  model.checkMemory(real.current)
  const { store, outbox } = real.current
  if (store.mode === 'healthy' && store.hanging === 0 && outbox.stats().pendingWrites === 0) {
    model.checkDisk(await store.contents())
  }
  model.raise()
}

function track(real: Real, promise: Promise<unknown>): void {
  const settled = promise.then(
    () => {},
    () => {}
  )
  real.unsettled.add(promise)
  void settled.then(() => real.unsettled.delete(promise))
}

function pick(model: Model, index: number): ModelMessage | undefined {
  const all = Array.from(model.messages.values())
  return all.length === 0 ? undefined : all[index % all.length]
}

/** Whether the outbox still knows this id (queued, in flight, dead, or delivered in this life). */
function known(model: Model, message: ModelMessage): boolean {
  return (
    message.status === 'sending' ||
    message.status === 'queued' ||
    message.status === 'dead' ||
    (message.status === 'delivered' &&
      (message.deliveredIn === model.incarnation || message.replyPending === true))
  )
}

const KNOWN_ANSWER: Partial<Record<ModelMessage['status'], SendStatus>> = {
  queued: 'queued',
  dead: 'abandoned',
  delivered: 'delivered'
}

export class SendCommand implements Command {
  constructor(
    readonly peer: number,
    readonly level: LevelName,
    readonly idChoice: 'fresh' | 'same' | 'different',
    readonly index: number
  ) {}

  check(): boolean {
    return true
  }

  async run(model: Model, real: Real): Promise<void> {
    const incarnation = real.current
    const earlier = this.idChoice === 'fresh' ? undefined : pick(model, this.index)
    let message: ModelMessage
    let payload: string
    if (earlier === undefined) {
      const id = `m${model.sequence++}`
      payload = `payload of ${id}`
      message = {
        id,
        peer: PEERS[this.peer] as string,
        level: this.level,
        payload,
        status: 'sending',
        sentIn: model.incarnation,
        deliveredIn: undefined,
        calls: 0,
        requeued: false,
        requeuing: false,
        durable: false,
        sendSettled: false,
        firstCall: real.world.calls.length
      }
      model.messages.set(id, message)
      model.enqueue(message)
    } else {
      message = earlier
      payload = this.idChoice === 'same' ? earlier.payload : `${earlier.payload}!`
    }
    const expectDuplicate =
      earlier !== undefined && this.idChoice === 'different' && known(model, message)
    const joins = earlier !== undefined && known(model, message)
    const expectAnswer =
      joins && this.idChoice === 'same' && !message.requeuing
        ? KNOWN_ANSWER[message.status]
        : undefined
    if (earlier !== undefined && !known(model, message)) {
      // the outbox forgot the id: this is a new message under it
      Object.assign(message, {
        payload,
        status: 'sending',
        sentIn: model.incarnation,
        deliveredIn: undefined,
        calls: 0,
        requeued: false,
        requeuing: false,
        durable: false,
        arrived: false,
        sendSettled: false,
        replyPending: false,
        firstCall: real.world.calls.length
      })
      model.mayRedeliver.delete(message.id)
      model.enqueue(message)
    }
    const sending = incarnation.outbox.send(
      { id: message.id, peer: message.peer, protocol: '/p', payload: bytes(payload) },
      { level: message.level }
    )
    track(real, sending)
    const current = () => !incarnation.dead && model.incarnation === incarnation.number
    sending.then(
      (result) => {
        if (!current()) return
        if (!joins) message.sendSettled = true
        if (result.reply !== undefined && !sameBytes(result.reply, World.replyTo(message.id))) {
          model.violation(`${message.id}: send() got another request's reply`)
        }
        if (!joins && result.status === 'delivered' && result.reply === undefined) {
          model.violation(`${message.id}: delivered at once but send() got no reply`)
        }
        if (expectDuplicate)
          model.violation(`${message.id}: a different payload was accepted (${result.status})`)
        if (expectAnswer !== undefined && result.status !== expectAnswer) {
          model.violation(`${message.id} resent: ${result.status}, expected ${expectAnswer}`)
        }
        if (joins) return
        if (result.status === 'queued' && message.status === 'sending') {
          model.settle(message, 'queued')
          if (LEVELS[message.level].persist) message.durable = true
        }
        if (result.status === 'delivered' && message.status !== 'delivered') {
          model.violation(`${message.id}: send() said delivered, the model has ${message.status}`)
        }
        if (
          result.status === 'abandoned' &&
          message.status !== 'dead' &&
          message.status !== 'gone'
        ) {
          model.violation(`${message.id}: send() said abandoned, the model has ${message.status}`)
        }
      },
      (error: unknown) => {
        if (!current()) return
        if (!joins) message.sendSettled = true
        if (DuplicateIdError.isInstance(error)) {
          if (!expectDuplicate) model.violation(`${message.id}: unexpected DuplicateIdError`)
          return
        }
        if (expectDuplicate)
          model.violation(`${message.id}: expected DuplicateIdError, got ${String(error)}`)
        if (joins) return
        if (DeliveryRejectedError.isInstance(error) || UndeliverableError.isInstance(error)) {
          if (message.status !== 'gone')
            model.violation(`${message.id} refused but ${message.status}`)
        } else if (
          StoreUnavailableError.isInstance(error) ||
          OutboxStoppedError.isInstance(error)
        ) {
          if (message.status === 'sending') model.settle(message, 'maybe')
        } else {
          model.violation(`${message.id}: send() failed with ${String(error)}`)
        }
      }
    )
    await step(model, real)
  }

  toString(): string {
    return `send(${PEERS[this.peer]}, ${this.level}, ${this.idChoice}${this.idChoice === 'fresh' ? '' : ` #${this.index}`})`
  }
}

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

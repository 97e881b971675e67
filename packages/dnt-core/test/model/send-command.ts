import {
  DeliveryRejectedError,
  DuplicateIdError,
  OutboxStoppedError,
  StoreUnavailableError,
  UndeliverableError
} from '../../src/index.js'
import { bytes } from '../helpers.js'
import type { Model, ModelMessage } from './model.js'
import {
  type Command,
  KNOWN_ANSWER,
  known,
  pick,
  type Real,
  sameBytes,
  step,
  track
} from './real.js'
import { LEVELS, type LevelName, PEERS, World } from './world.js'

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
    this.issue(model, real)
    await step(model, real)
  }

  /** Calls `send()` and follows its answer into the model, without waiting for it. */
  issue(model: Model, real: Real): void {
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
        firstCall: real.world.calls.length,
        since: real.world.tick,
        sentAt: real.world.tick,
        restoredAttempts: 0,
        generation: 0
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
        firstCall: real.world.calls.length,
        since: real.world.tick,
        sentAt: real.world.tick,
        restoredAttempts: 0,
        firstAnswer: undefined,
        generation: message.generation + 1
      })
      model.mayRedeliver.delete(message.id)
      model.enqueue(message)
    }
    const sending = incarnation.outbox.send(
      { id: message.id, peer: message.peer, protocol: '/p', payload: bytes(payload) },
      { level: message.level }
    )
    track(real, sending)
    // the answer is about this message: not after a crash, nor once a later send reused the id
    const { generation } = message
    const current = () =>
      !incarnation.dead &&
      model.incarnation === incarnation.number &&
      message.generation === generation
    const answer = sending.then(
      (result) => result.status as string,
      (error: unknown) => `error:${(error as Error)?.name}`
    )
    if (!joins) message.firstAnswer = answer
    else if (this.idChoice === 'same' && message.status === 'sending' && message.firstAnswer) {
      // the same message while its first send waits (first attempt in flight, or its write): the same answer
      void Promise.all([message.firstAnswer, answer]).then(([first, again]) => {
        if (current() && first !== again)
          model.violation(
            `${message.id} resent while its send waited: ${again}, the send: ${first}`
          )
      })
    }
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
        // queued means durable for a persisted level: a put of it landed since it was sent
        if (
          result.status === 'queued' &&
          LEVELS[message.level].persist &&
          (real.world.landedAt.get(message.id) ?? -1) < message.sentAt
        ) {
          model.violation(`${message.id}: send() answered queued, nothing of it is on disk`)
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
  }

  toString(): string {
    return `send(${PEERS[this.peer]}, ${this.level}, ${this.idChoice}${this.idChoice === 'fresh' ? '' : ` #${this.index}`})`
  }
}

/** Several fresh messages to one peer in the same instant (a burst): queued behind one another, pipelined. */
export class BurstCommand implements Command {
  constructor(
    readonly peer: number,
    readonly levels: LevelName[]
  ) {}

  check(): boolean {
    return true
  }

  async run(model: Model, real: Real): Promise<void> {
    for (const level of this.levels)
      new SendCommand(this.peer, level, 'fresh', 0).issue(model, real)
    await step(model, real)
  }

  toString(): string {
    return `burst(${PEERS[this.peer]}, ${this.levels.join(' ')})`
  }
}

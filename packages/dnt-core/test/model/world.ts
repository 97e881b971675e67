import {
  DeliveryFailedError,
  DeliveryRejectedError,
  definePolicy,
  type Entry,
  memoryStore,
  Outbox,
  PeerUnreachableError,
  type Store,
  type Transport,
  UndeliverableError
} from '../../src/index.js'
import { type ManualClock, manualClock } from '../../src/testing/index.js'
import { FaultStore } from '../controlled.js'

export const PEERS = ['peer-0', 'peer-1', 'peer-2'] as const
export type PeerMode = 'up' | 'down' | 'fail' | 'reject' | 'undeliverable' | 'hang' | 'flaky'
export type LevelName = 'critical' | 'moderate' | 'important' | 'once'
export type StoreMode = FaultStore['mode']

/** The levels the model knows the rules of. */
export const LEVELS: Record<LevelName, { persist: boolean; maxRetries: number; ttl: number }> = {
  critical: { persist: true, maxRetries: Infinity, ttl: Infinity },
  moderate: { persist: false, maxRetries: 3, ttl: Infinity },
  important: { persist: true, maxRetries: 2, ttl: 8_000 },
  once: { persist: false, maxRetries: 0, ttl: Infinity }
}

export const policy = definePolicy({
  levels: {
    critical: { backoff: { type: 'fixed', interval: 1_000 }, onExhausted: 'dead-letter' },
    moderate: { backoff: { type: 'fixed', interval: 1_000 }, onExhausted: 'drop' },
    important: {
      persist: true,
      maxRetries: 2,
      ttl: 8_000,
      backoff: { type: 'fixed', interval: 1_000 },
      onExhausted: 'dead-letter'
    },
    once: {
      persist: false,
      maxRetries: 0,
      backoff: { type: 'fixed', interval: 1_000 },
      onExhausted: 'drop'
    }
  }
})

/** One delivery the world was asked for, and what became of it. */
export interface Call {
  /** Position in `World.calls`. */
  index: number
  id: string
  peer: string
  incarnation: number
  outcome: Exclude<PeerMode, 'flaky'> | 'aborted'
  /** `World.tick` when it was made, and when the sender got its outcome (undefined: still on the wire). */
  started: number
  settled?: number
}

/** Outcomes that cost the message an attempt (its own, or, unreachable, every queued one's of its peer). */
export const CHARGED: ReadonlySet<Call['outcome']> = new Set(['down', 'fail', 'aborted'])
export const UNREACHABLE: ReadonlySet<Call['outcome']> = new Set(['down', 'aborted'])

/** The network and the disk, shared by every incarnation of the sending process. */
export class World {
  readonly clock: ManualClock = manualClock()
  readonly disk: Store = memoryStore()
  readonly modes = new Map<string, PeerMode>()
  readonly calls: Call[] = []
  storeMode: StoreMode = 'healthy'
  /** `tick` when a put of each id last landed on disk (what became durable, read synchronously). */
  readonly landedAt = new Map<string, number>()
  /** Counts call starts and settlements: orders them against the model's own moments. */
  tick = 0
  /** Called on every successful delivery, before the sender learns of it. */
  onArrival: (call: Call) => void = () => {}
  /** Called on every delivery attempt. */
  onCall: (call: Call) => void = () => {}
  private readonly hanging: Array<{ call: Call; succeed(): void }> = []
  private readonly listeners = new Set<(peer: string) => void>()

  private flips = 0

  /** The outcome of the next call to `peer` (`flaky`: down and up in turn). */
  mode(peer: string): Exclude<PeerMode, 'flaky'> {
    const mode = this.modes.get(peer) ?? 'down'
    if (mode !== 'flaky') return mode
    return this.flips++ % 2 === 0 ? 'down' : 'up'
  }

  connect(peer: string): void {
    for (const listener of Array.from(this.listeners)) listener(peer)
  }

  /** A dead process's deliveries still on the wire never arrive. */
  dropDeliveriesOf(incarnation: number): void {
    for (let index = this.hanging.length - 1; index >= 0; index--) {
      if (this.hanging[index]?.call.incarnation === incarnation) this.hanging.splice(index, 1)
    }
  }

  /** Whether a call for `id` made from `fromIndex` on is still on the wire (its attempt in flight). */
  onTheWire(id: string, fromIndex: number): boolean {
    return this.hanging.some(({ call }) => call.id === id && call.index >= fromIndex)
  }

  /** A batch landed on disk: its puts are durable from now. */
  landed(batch: { put?: Entry[] }): void {
    const tick = ++this.tick
    for (const entry of batch.put ?? []) this.landedAt.set(entry.id, tick)
  }

  /** Lets every hung delivery arrive. */
  releaseDeliveries(): void {
    for (const hung of this.hanging.splice(0)) hung.succeed()
  }

  /** What a receiver answers to `id`: one reply per request, never another's. */
  static replyTo(id: string): Uint8Array {
    return new TextEncoder().encode(`reply to ${id}`)
  }

  async deliver(
    entry: Entry,
    signal: AbortSignal,
    incarnation: number
  ): Promise<{ reply: Uint8Array } | undefined> {
    const call: Call = {
      index: this.calls.length,
      id: entry.id,
      peer: entry.peer,
      incarnation,
      outcome: this.mode(entry.peer),
      started: ++this.tick
    }
    this.calls.push(call)
    this.onCall(call)
    await Promise.resolve()
    if (call.outcome !== 'hang') call.settled = ++this.tick
    switch (call.outcome) {
      case 'up':
        this.onArrival(call)
        return { reply: World.replyTo(entry.id) }
      case 'down':
        throw new PeerUnreachableError(`dial to ${entry.peer} refused`)
      case 'fail':
        throw new DeliveryFailedError('stream reset mid-message', { reason: 'reset' })
      case 'reject':
        throw new DeliveryRejectedError('handler refused', { reason: 'test' })
      case 'undeliverable':
        throw new UndeliverableError('dial denied by the gater', { reason: 'dial-denied' })
      case 'hang':
        return new Promise<{ reply: Uint8Array }>((resolve, reject) => {
          const hung = {
            call,
            succeed: () => {
              call.settled = ++this.tick
              this.onArrival(call)
              resolve({ reply: World.replyTo(entry.id) })
            }
          }
          this.hanging.push(hung)
          signal.addEventListener(
            'abort',
            () => {
              const index = this.hanging.indexOf(hung)
              if (index >= 0) this.hanging.splice(index, 1)
              call.outcome = 'aborted'
              call.settled = ++this.tick
              reject(signal.reason)
            },
            { once: true }
          )
        })
    }
  }

  onReachable(listener: (peer: string) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}

/** One life of the sending process: its own outbox, transport and store handle. */
export class Incarnation {
  dead = false
  readonly store: FaultStore
  readonly outbox: Outbox

  constructor(
    readonly world: World,
    readonly number: number,
    perPeerConcurrency: number
  ) {
    this.store = new FaultStore(world.disk)
    this.store.mode = world.storeMode
    this.store.onLanded = (batch) => world.landed(batch)
    const self = this
    const transport: Transport = {
      deliver(entry, options) {
        if (self.dead) return Promise.reject(new PeerUnreachableError('the process is dead'))
        return world.deliver(entry, options.signal, number)
      },
      onReachable(listener) {
        return world.onReachable((peer) => {
          if (!self.dead) listener(peer)
        })
      }
    }
    this.outbox = new Outbox({
      transport,
      store: this.store,
      clock: world.clock,
      policy,
      random: () => 0.5,
      concurrency: 2,
      perPeerConcurrency,
      attemptTimeout: 3_000,
      stopTimeout: 2_000
    })
  }

  /** Stops the outbox, driving the manual clock until it has (it must, within its bounds). */
  async stop(): Promise<boolean> {
    let done = false
    const stopping = this.outbox.stop().then(() => {
      done = true
    })
    for (let step = 0; step < 20 && !done; step++) await this.world.clock.advance(500)
    await Promise.race([stopping, Promise.resolve()])
    return done
  }

  /** The process dies: nothing it has not written lands, nothing it does reaches anyone. */
  crash(): void {
    this.dead = true
    this.store.crash()
  }
}

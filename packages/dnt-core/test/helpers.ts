import {
  DeliveryRejectedError,
  type Entry,
  memoryStore,
  Outbox,
  type OutboxEventName,
  type OutboxInit,
  PeerUnreachableError,
  type Store,
  type StoreBatch,
  type Transport
} from '../src/index.js'
import { type ManualClock, manualClock } from '../src/testing/index.js'

export type PeerMode = 'up' | 'down' | 'reject' | 'hang'

/** A transport in memory whose peers are switched up, down, rejecting or hanging by the test. */
export class FakeTransport implements Transport {
  readonly modes = new Map<string, PeerMode>()
  /** Every deliver call, in order: [peer, entry id, outcome]. */
  readonly calls: Array<{ peer: string; id: string; outcome: PeerMode }> = []
  /** Payload ids delivered, per peer, in order. */
  readonly delivered = new Map<string, string[]>()
  /** When set, a delivered message is answered with what this returns. */
  replyWith: ((entry: Entry) => Uint8Array | undefined) | undefined
  private readonly listeners = new Set<(peer: string) => void>()
  private readonly hanging: Array<() => void> = []

  set(peer: string, mode: PeerMode): void {
    this.modes.set(peer, mode)
  }

  /** Switches a peer up and tells listeners, as a transport does on connect. */
  connect(peer: string): void {
    this.modes.set(peer, 'up')
    for (const listener of this.listeners) listener(peer)
  }

  /** Lets every hanging delivery fail. */
  releaseHanging(): void {
    for (const release of this.hanging.splice(0)) release()
  }

  attemptsTo(peer: string): number {
    return this.calls.filter((call) => call.peer === peer).length
  }

  deliveredTo(peer: string): string[] {
    return this.delivered.get(peer) ?? []
  }

  async deliver(
    entry: Entry,
    options: { signal: AbortSignal }
    // biome-ignore lint/suspicious/noConfusingVoidType: the Transport contract's own return type
  ): Promise<void | { reply?: Uint8Array }> {
    const mode = this.modes.get(entry.peer) ?? 'down'
    this.calls.push({ peer: entry.peer, id: entry.id, outcome: mode })
    await Promise.resolve()
    if (mode === 'down') throw new PeerUnreachableError(`dial to ${entry.peer} refused`)
    if (mode === 'reject') throw new DeliveryRejectedError('handler refused', { reason: 'test' })
    if (mode === 'hang') {
      await new Promise<void>((_resolve, reject) => {
        this.hanging.push(() => reject(new PeerUnreachableError('released')))
        options.signal.addEventListener('abort', () => reject(options.signal.reason), {
          once: true
        })
      })
    }
    const list = this.delivered.get(entry.peer) ?? []
    list.push(entry.id)
    this.delivered.set(entry.peer, list)
    const reply = this.replyWith?.(entry)
    return reply === undefined ? undefined : { reply }
  }

  onReachable(listener: (peer: string) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

export const PEER_A = '12D3KooWPeerA'
export const PEER_B = '12D3KooWPeerB'

/** A store wrapper that records batches, can hold applies at a gate, and can fail on demand. */
export class SpyStore {
  readonly inner = memoryStore()
  readonly batches: StoreBatch[] = []
  applying = 0
  maxConcurrentApplies = 0
  failing = false
  private gate: Promise<void> | undefined
  private openGate: (() => void) | undefined

  hold(): void {
    this.gate = new Promise((resolve) => {
      this.openGate = resolve
    })
  }

  release(): void {
    this.openGate?.()
    this.gate = undefined
  }

  async contents(): Promise<Entry[]> {
    return (await this.inner.open()) as Entry[]
  }

  open(): ReturnType<Store['open']> {
    return this.inner.open()
  }

  async apply(batch: StoreBatch): Promise<void> {
    this.applying++
    this.maxConcurrentApplies = Math.max(this.maxConcurrentApplies, this.applying)
    try {
      if (this.gate !== undefined) await this.gate
      if (this.failing) throw new Error('ENOSPC: no space left on device')
      await this.inner.apply(batch)
      this.batches.push(batch)
    } finally {
      this.applying--
    }
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}

export interface Harness {
  outbox: Outbox
  clock: ManualClock
  transport: FakeTransport
  store: SpyStore
}

export async function startOutbox(init: Partial<OutboxInit> = {}): Promise<Harness> {
  const clock = (init.clock as ManualClock | undefined) ?? manualClock()
  const transport = (init.transport as FakeTransport | undefined) ?? new FakeTransport()
  const store = (init.store as SpyStore | undefined) ?? new SpyStore()
  const outbox = new Outbox({ random: () => 0.5, ...init, clock, transport, store })
  await outbox.start()
  return { outbox, clock, transport, store }
}

/** Collects the `detail` of every event of the given names, in order. */
export function record(
  outbox: Outbox,
  ...names: OutboxEventName[]
): Array<{ name: string; detail: any }> {
  const seen: Array<{ name: string; detail: any }> = []
  for (const name of names) {
    outbox.addEventListener(name, (event) =>
      seen.push({ name, detail: (event as CustomEvent).detail })
    )
  }
  return seen
}

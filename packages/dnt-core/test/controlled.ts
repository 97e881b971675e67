import type { DeliverOptions, Entry, Store, StoreBatch, Transport } from '../src/index.js'
import { memoryStore } from '../src/index.js'

/** One delivery the test decides the outcome of. */
export interface PendingDelivery {
  entry: Entry
  signal: AbortSignal
  succeed(): void
  fail(error: unknown): void
}

/** A transport whose every delivery waits until the test settles it. */
export class ControlledTransport implements Transport {
  readonly pending: PendingDelivery[] = []
  readonly calls: string[] = []
  private readonly listeners = new Set<(peer: string) => void>()

  deliver(entry: Entry, options: DeliverOptions): Promise<void> {
    this.calls.push(entry.id)
    return new Promise<void>((resolve, reject) => {
      const delivery: PendingDelivery = {
        entry,
        signal: options.signal,
        succeed: () => {
          this.remove(delivery)
          resolve()
        },
        fail: (error) => {
          this.remove(delivery)
          reject(error)
        }
      }
      this.pending.push(delivery)
      options.signal.addEventListener('abort', () => this.remove(delivery), { once: true })
    })
  }

  /** The pending delivery of `id` (throws when there is none). */
  of(id: string): PendingDelivery {
    const delivery = this.pending.find((pending) => pending.entry.id === id)
    if (delivery === undefined) throw new Error(`no pending delivery of ${id}`)
    return delivery
  }

  reachable(peer: string): void {
    for (const listener of this.listeners) listener(peer)
  }

  onReachable(listener: (peer: string) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private remove(delivery: PendingDelivery): void {
    const index = this.pending.indexOf(delivery)
    if (index >= 0) this.pending.splice(index, 1)
  }
}

/**
 * A store over `memoryStore()` with faults the test switches: writes that
 * fail (before or after applying), writes that hang until released, and a
 * crash that drops every write not yet settled.
 */
export class FaultStore implements Store {
  readonly disk: Store
  readonly batches: StoreBatch[] = []
  mode: 'healthy' | 'fail' | 'fail-after-apply' | 'hang' = 'healthy'
  private hung: Array<{ batch: StoreBatch; release(): void; drop(): void }> = []
  private crashed = false

  /** Told of every batch once it is on disk (before `apply` resolves). */
  onLanded: (batch: StoreBatch) => void = () => {}

  constructor(disk: Store = memoryStore()) {
    this.disk = disk
  }

  open(): ReturnType<Store['open']> {
    return this.disk.open()
  }

  async apply(batch: StoreBatch): Promise<void> {
    if (this.crashed) return new Promise<void>(() => {})
    if (this.mode === 'fail') throw new Error('EIO: injected write failure')
    if (this.mode === 'hang') {
      await new Promise<void>((resolve, reject) => {
        this.hung.push({
          batch,
          release: resolve,
          drop: () => reject(new Error('dropped by a crash'))
        })
      })
      if (this.crashed) return new Promise<void>(() => {})
    }
    await this.disk.apply(batch)
    this.onLanded(batch)
    this.batches.push(batch)
    if (this.mode === 'fail-after-apply') throw new Error('EIO: injected failure after the write')
  }

  close(): Promise<void> {
    return this.crashed ? Promise.resolve() : this.disk.close()
  }

  get hanging(): number {
    return this.hung.length
  }

  /** Lets every hung write complete. */
  release(): void {
    for (const write of this.hung.splice(0)) write.release()
  }

  /** The process died: writes not yet settled never land, and nothing more does. */
  crash(): void {
    this.crashed = true
    this.hung = []
  }

  /** What is on disk now, in store order. */
  async contents(): Promise<Entry[]> {
    return (await this.disk.open()) as Entry[]
  }
}

import { type Clock, monotonicNow } from './clock.js'
import type { PeerQueue } from './peer-queue.js'
import { TimerHeap } from './timer-heap.js'

/** What the scheduler asks of its owner. */
export interface SchedulerHost {
  /** The outbox runs (entries expire, even while paused). */
  running(): boolean
  /** Deliveries may start (running and not paused). */
  delivering(): boolean
  /** Expires the queue's entries whose TTL passed by `now` and updates `queue.nextExpiry`. */
  expireDue(queue: PeerQueue, now: number): void
  /** Starts as many attempts for the queue as its window allows. */
  fill(queue: PeerQueue): void
  /** The queue is empty and nothing of it is in flight. */
  emptied(queue: PeerQueue): void
}

/**
 * When each peer is attempted: a peer backing off sleeps in a min-heap keyed
 * on its monotonic wake time, with one timer armed for the earliest; a due
 * peer is delivered to at once when fewer than `concurrency` peers are active,
 * otherwise it waits its turn in a ready list. An idle outbox costs one timer.
 */
export class PeerScheduler {
  private readonly heap = new TimerHeap<PeerQueue>()
  private readyList: PeerQueue[] = []
  private timer: unknown
  private timerAt = Infinity
  /** Peers with at least one attempt in flight. */
  activePeers = 0

  constructor(
    private readonly host: SchedulerHost,
    private readonly clock: Clock,
    private readonly concurrency: number
  ) {}

  now(): number {
    return monotonicNow(this.clock)
  }

  /** Puts a peer where it belongs: forgotten when empty, in the heap while waiting, or delivering. */
  schedule(queue: PeerQueue): void {
    if (queue.size === 0) {
      if (queue.inFlight === 0) {
        this.heap.remove(queue)
        this.host.emptied(queue)
      }
      return
    }
    if (!this.host.running()) return
    const now = this.now()
    if (queue.nextExpiry <= now) {
      this.host.expireDue(queue, now)
      if (queue.size === 0) {
        this.schedule(queue)
        return
      }
    }
    // while paused only expiry wakes a peer; attempts wait for resume()
    const delivering = this.host.delivering()
    const wakeAt = delivering ? Math.min(queue.retryAt, queue.nextExpiry) : queue.nextExpiry
    if (!delivering && wakeAt === Infinity) {
      this.heap.remove(queue)
      return
    }
    if (wakeAt > now) {
      this.wakeAt(queue, wakeAt)
      return
    }
    this.heap.remove(queue)
    if (queue.inFlight > 0 || this.activePeers < this.concurrency) this.host.fill(queue)
    else if (!queue.ready) {
      queue.ready = true
      this.readyList.push(queue)
    }
  }

  /** One more attempt in flight for `queue`. */
  started(queue: PeerQueue): void {
    if (queue.inFlight === 0) this.activePeers++
    queue.inFlight++
  }

  /** One attempt of `queue` ended. */
  ended(queue: PeerQueue): void {
    queue.inFlight--
    if (queue.inFlight === 0) this.activePeers--
  }

  /** Gives free delivery slots to peers waiting in the ready list. */
  pump(): void {
    while (this.readyList.length > 0 && this.activePeers < this.concurrency) {
      const queue = this.readyList.shift() as PeerQueue
      queue.ready = false
      this.schedule(queue)
    }
  }

  /** Cancels the timer and forgets every peer. */
  clear(): void {
    this.disarm()
    for (const queue of this.readyList) queue.ready = false
    this.readyList = []
    this.heap.clear()
    this.activePeers = 0
  }

  private wakeAt(queue: PeerQueue, at: number): void {
    this.heap.set(queue, at)
    this.arm()
  }

  private arm(): void {
    const top = this.heap.peek()
    const wakeAt = top?.wakeAt ?? Infinity
    if (wakeAt === this.timerAt) return
    this.disarm()
    if (top === undefined) return
    this.timerAt = wakeAt
    this.timer = this.clock.setTimeout(() => this.onTimer(), Math.max(0, wakeAt - this.now()))
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = Infinity
  }

  private onTimer(): void {
    this.timer = undefined
    this.timerAt = Infinity
    const now = this.now()
    for (
      let top = this.heap.peek();
      top !== undefined && top.wakeAt <= now;
      top = this.heap.peek()
    ) {
      this.heap.pop()
      this.schedule(top)
    }
    this.arm()
  }
}

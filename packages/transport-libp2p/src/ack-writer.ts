import { type Clock, systemClock, type TimerHandle } from '@dntkit/core'
import type { Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { ACK_BACKLOG_BYTES, ACK_HIGH_WATER_BYTES, MAX_ACK_BYTES } from './constants.js'
import { encodeAck } from './envelope-codec.js'
import type { StreamErrorReason } from './receiver-stats.js'
import type { Answer } from './receiver-types.js'

/** Acks gathered before they are written in one send, at most. */
const MAX_ACKS_PER_WRITE = 64

/** What bounds the acks of one stream. */
export interface AckLimits {
  /** Largest reply an ack carries: one such ack always fits the backlog. */
  maxReplyBytes: number
  /** ms handlers wait for room before the stream fails (`ack-backlog`). */
  idleTimeout: number
  /** Drives that wait. */
  clock: Clock
}

/**
 * Writes the acks of one envelope stream: a burst of quick answers goes out
 * in one send (up to 64 acks, or what is ready before the next macrotask).
 * Acks count with their replies. Before a handler runs, `room()` waits while
 * more than 512 KiB of acks wait to be sent: a peer that reads its acks
 * slowly holds back its own handlers, not the receiver's memory. A peer
 * that leaves more than 2 MiB (plus one reply) of acks unread, or gives no
 * room for `idleTimeout`, fails the stream (`ack-backlog`), and so does a
 * failed write (`reset`).
 */
export class AckWriter {
  private readonly acks = new Uint8ArrayList()
  private count = 0
  private timer: TimerHandle | undefined
  private stopped = false
  private wake: (() => void) | undefined

  constructor(
    private readonly stream: Stream,
    private readonly from: string,
    private readonly fail: (error: Error, reason: StreamErrorReason) => void,
    private readonly limits: AckLimits
  ) {}

  /** Adds the ack of `sequence`; `last` when nothing else waits to be answered. */
  add(sequence: number, answer: Answer, last: boolean): void {
    this.acks.append(encodeAck({ sequence, ...answer }))
    this.count++
    if (last || this.count >= MAX_ACKS_PER_WRITE) this.flush()
    else this.schedule()
  }

  /** Writes every ack gathered so far. */
  flush(): void {
    this.cancel()
    if (this.acks.byteLength === 0 || this.stopped) return
    const bytes = this.acks.sublist()
    this.acks.consume(bytes.byteLength)
    this.count = 0
    const backlog = ACK_BACKLOG_BYTES + MAX_ACK_BYTES + this.limits.maxReplyBytes
    if (this.stream.writeBufferLength + bytes.byteLength > backlog) {
      // the peer does not read its acks: they would pile up here
      this.fail(
        new Error(
          `${this.from} does not read its acks: ${this.stream.writeBufferLength} bytes of them wait to be sent`
        ),
        'ack-backlog'
      )
      return
    }
    try {
      this.stream.send(bytes)
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)), 'reset')
    }
  }

  /**
   * Writes what was gathered, then resolves once at most 512 KiB of acks
   * wait to be sent (at once when that holds already). After `idleTimeout`
   * without room the stream fails (`ack-backlog`); a stream that ends
   * meanwhile resolves it too.
   */
  async room(): Promise<void> {
    this.flush()
    if (!this.congested()) return
    const { clock, idleTimeout } = this.limits
    const stream = this.stream
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clock.clearTimeout(timer)
        stream.removeEventListener('drain', onDrain)
        stream.removeEventListener('idle', check)
        stream.removeEventListener('close', done)
        this.wake = undefined
        resolve()
      }
      const check = (): void => {
        if (!this.congested()) done()
      }
      // the stream sends more in a microtask after its own drain listener: look after that
      const onDrain = (): void => queueMicrotask(check)
      const timer = clock.setTimeout(() => {
        done()
        this.fail(
          new Error(
            `${this.from} did not read its acks for ${idleTimeout} ms: ${stream.writeBufferLength} bytes of them wait to be sent`
          ),
          'ack-backlog'
        )
      }, idleTimeout)
      stream.addEventListener('drain', onDrain)
      stream.addEventListener('idle', check)
      stream.addEventListener('close', done)
      this.wake = done
    })
  }

  /** Writes nothing more (the stream failed); a `room()` waiting resolves. */
  stop(): void {
    this.stopped = true
    this.cancel()
    this.wake?.()
  }

  private congested(): boolean {
    return (
      !this.stopped &&
      this.stream.status === 'open' &&
      this.stream.writeBufferLength > ACK_HIGH_WATER_BYTES
    )
  }

  /** Acks wait for the next macrotask (a batching delay, not a timeout: the wall clock's timer). */
  private schedule(): void {
    if (this.timer != null) return
    this.timer = systemClock.setTimeout(() => {
      this.timer = undefined
      this.flush()
    }, 0)
  }

  private cancel(): void {
    if (this.timer == null) return
    systemClock.clearTimeout(this.timer)
    this.timer = undefined
  }
}

import { systemClock, type TimerHandle } from '@dntkit/core'
import type { Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { ACK_BACKLOG_BYTES } from './constants.js'
import { encodeAck } from './envelope-codec.js'
import type { StreamErrorReason } from './receiver-stats.js'
import type { Answer } from './receiver-types.js'

/** Acks gathered before they are written in one send, at most. */
const MAX_ACKS_PER_WRITE = 64

/**
 * Writes the acks of one envelope stream: a burst of quick answers goes out
 * in one send (up to 64 acks, or what is ready before the next macrotask). A
 * peer that leaves more than 2 MiB of acks unread fails the stream
 * (`ack-backlog`), and so does a failed write (`reset`).
 */
export class AckWriter {
  private readonly acks = new Uint8ArrayList()
  private count = 0
  private timer: TimerHandle | undefined
  private stopped = false

  constructor(
    private readonly stream: Stream,
    private readonly from: string,
    private readonly fail: (error: Error, reason: StreamErrorReason) => void
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
    if (this.stream.writeBufferLength + bytes.byteLength > ACK_BACKLOG_BYTES) {
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

  /** Writes nothing more (the stream failed). */
  stop(): void {
    this.stopped = true
    this.cancel()
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

import { systemClock, type TimerHandle } from '@dntkit/core'
import type { Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { WIRE_MAX_UNACKED_BYTES, WIRE_MAX_UNACKED_FRAMES } from './constants.js'
import { decodeMessageFrame, encodeAck, FrameError, type MessageFrame } from './envelope-codec.js'
import { FrameDecoder } from './frame-decoder.js'
import type { Answer, EnvelopeReceiverCore } from './receiver.js'

/** Acks gathered before they are written in one send, at most. */
const MAX_ACKS_PER_WRITE = 64

/** A frame to answer: decoded, or refused from its size alone. */
type Work =
  | { sequence: number; frame: MessageFrame; bytes: number }
  | { sequence: number; answer: Answer; bytes: number }

/**
 * Serves one inbound envelope stream: splits frames, checks sizes and
 * sequence numbers, has the receiver process frames one at a time (FIFO),
 * and writes acks (several at once when frames arrive in a burst). A
 * malformed frame, exceeded limits or `idleTimeout` without a complete frame
 * abort the stream; nothing here throws into libp2p.
 */
export class InboundEnvelopeStream {
  private readonly decoder: FrameDecoder
  private readonly queue: Work[] = []
  private expected = 0
  private unackedBytes = 0
  private unackedFrames = 0
  private processing: Promise<void> | undefined
  private readonly acks = new Uint8ArrayList()
  private ackCount = 0
  private ackTimer: TimerHandle | undefined
  private idleTimer: TimerHandle | undefined
  private remoteEnded = false
  private finished = false

  constructor(
    private readonly stream: Stream,
    readonly from: string,
    private readonly receiver: EnvelopeReceiverCore
  ) {
    this.decoder = new FrameDecoder(receiver.maxMessageBytes + receiver.maxHeaderBytes)
  }

  async run(): Promise<void> {
    this.armIdle()
    try {
      for await (const chunk of this.stream) {
        if (!this.accept(chunk)) break
      }
      this.remoteEnded = true
      if (this.stream.status === 'reset' || this.stream.status === 'aborted') {
        this.fail(new Error(`stream ${this.stream.status} by ${this.from}`), false)
      }
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)), false)
    }
    this.disarmIdle()
    await this.processing
    await this.finish()
  }

  /** Answers what is queued, then closes the stream (the receiver is stopping). */
  async close(): Promise<void> {
    await this.processing
    await this.finish()
  }

  /** Takes received bytes; false when reading must stop. */
  private accept(chunk: Uint8Array | Uint8ArrayList): boolean {
    let bodies: Uint8Array[]
    try {
      bodies = this.decoder.push(chunk)
    } catch (error) {
      if (error instanceof FrameError && error.kind === 'too-large') {
        // refused from the length prefix: its body is never read
        this.enqueue({
          sequence: this.expected++,
          answer: { status: 'rejected', code: 'too-large', reason: error.message },
          bytes: 0
        })
        this.stream.closeRead().catch(() => {})
        return false
      }
      return this.fail(error as Error)
    }
    for (const body of bodies) {
      let work: Work
      try {
        const frame = decodeMessageFrame(body, this.receiver)
        if (frame.sequence !== this.expected) {
          throw new FrameError(`frame sequence ${frame.sequence}, expected ${this.expected}`)
        }
        work = { sequence: frame.sequence, frame, bytes: body.byteLength }
      } catch (error) {
        if (!(error instanceof FrameError) || error.kind !== 'too-large')
          return this.fail(error as Error)
        work = {
          sequence: this.expected,
          answer: { status: 'rejected', code: 'too-large', reason: error.message },
          bytes: body.byteLength
        }
      }
      this.expected++
      this.disarmIdle()
      this.enqueue(work)
      if (
        this.unackedFrames > WIRE_MAX_UNACKED_FRAMES ||
        this.unackedBytes >
          WIRE_MAX_UNACKED_BYTES + this.receiver.maxMessageBytes + this.receiver.maxHeaderBytes
      ) {
        return this.fail(new Error(`${this.from} exceeded the unacknowledged frame limits`))
      }
    }
    return true
  }

  private enqueue(work: Work): void {
    this.queue.push(work)
    this.unackedFrames++
    this.unackedBytes += work.bytes
    if (this.processing == null) this.processing = this.process()
  }

  private async process(): Promise<void> {
    while (this.queue.length > 0 && !this.finished) {
      const work = this.queue.shift() as Work
      const answer = 'answer' in work ? work.answer : await this.answer(work.frame)
      if (this.finished) break
      this.unackedFrames--
      this.unackedBytes -= work.bytes
      this.acks.append(encodeAck({ sequence: work.sequence, ...answer }))
      this.ackCount++
      if (this.queue.length === 0 || this.ackCount >= MAX_ACKS_PER_WRITE) this.flushAcks()
      else this.scheduleAcks()
    }
    this.processing = undefined
    if (!this.remoteEnded && !this.finished) this.armIdle()
  }

  private async answer(frame: MessageFrame): Promise<Answer> {
    try {
      return await this.receiver.process(frame, this.from)
    } catch (error) {
      // process() answers every handler outcome itself; this is a bug guard
      return {
        status: 'try-later',
        code: 'internal-error',
        reason: (error as Error)?.message ?? String(error)
      }
    }
  }

  /** Acks wait for the next macrotask, so a burst of quick handlers answers in one write. */
  private scheduleAcks(): void {
    if (this.ackTimer != null) return
    this.ackTimer = systemClock.setTimeout(() => {
      this.ackTimer = undefined
      this.flushAcks()
    }, 0)
  }

  private flushAcks(): void {
    if (this.ackTimer != null) {
      systemClock.clearTimeout(this.ackTimer)
      this.ackTimer = undefined
    }
    if (this.acks.byteLength === 0 || this.finished) return
    const bytes = this.acks.sublist()
    this.acks.consume(bytes.byteLength)
    this.ackCount = 0
    try {
      this.stream.send(bytes)
    } catch (error) {
      this.fail(error as Error)
    }
  }

  /** Sends what is left and closes our side. */
  private async finish(): Promise<void> {
    if (this.finished) return
    this.flushAcks()
    this.finished = true
    this.disarmIdle()
    try {
      await this.stream.close()
    } catch {
      this.stream.abort(new Error('envelope stream close failed'))
    }
  }

  /** Aborts the stream; returns false so `accept` can stop reading. */
  private fail(error: Error, abort = true): false {
    if (this.finished) return false
    this.finished = true
    this.disarmIdle()
    if (this.ackTimer != null) systemClock.clearTimeout(this.ackTimer)
    this.receiver.log('envelope stream from %s cut off: %s', this.from, error.message)
    this.receiver.safeDispatchEvent('stream-error', { detail: { from: this.from, error } })
    if (abort) this.stream.abort(error)
    return false
  }

  private armIdle(): void {
    if (this.idleTimer != null || this.finished) return
    this.idleTimer = systemClock.setTimeout(() => {
      this.idleTimer = undefined
      if (this.processing == null) {
        this.fail(
          new Error(`no complete frame from ${this.from} in ${this.receiver.idleTimeout} ms`)
        )
      }
    }, this.receiver.idleTimeout)
  }

  private disarmIdle(): void {
    if (this.idleTimer == null) return
    systemClock.clearTimeout(this.idleTimer)
    this.idleTimer = undefined
  }
}

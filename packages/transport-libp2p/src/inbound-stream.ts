import type { Stream } from '@libp2p/interface'
import { AckWriter } from './ack-writer.js'
import { AnswerQueue } from './answer-queue.js'
import { FrameError } from './frame-error.js'
import { MessageFrameReader } from './message-frame-reader.js'
import type { MessageHeader } from './message-header.js'
import type { StreamErrorReason } from './receiver-stats.js'
import type { EnvelopeStreamContext } from './stream-context.js'
import { closeWithin, StreamTimer } from './stream-timer.js'

/** Whether reading goes on after a batch of bytes. */
type Reading = 'more' | 'stop'

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

/**
 * Serves one inbound envelope stream. Frames are read header first: the
 * allowlist, the rate limit, the handler table, the `authorize` hook and the
 * memory budget decide from the header whether the payload is read at all
 * (a refused one is discarded as it arrives). What the stream holds (the
 * frame being read, payloads waiting for their handler) is charged to the
 * budget as it arrives: a payload that would pass it is dropped and its
 * frame answered `try-later` / `over-budget`. Accepted frames are processed
 * one at a time (FIFO) and acked in order. A malformed frame, exceeded
 * limits or `idleTimeout` without a complete frame reset the stream; nothing
 * here throws into libp2p.
 */
export class InboundEnvelopeStream {
  private readonly reader: MessageFrameReader
  private readonly acks: AckWriter
  private readonly queue: AnswerQueue
  private expected = 0
  private readonly idle: StreamTimer
  private remoteEnded = false
  private finished = false

  constructor(
    private readonly stream: Stream,
    readonly from: string,
    private readonly context: EnvelopeStreamContext
  ) {
    this.reader = new MessageFrameReader(context.limits)
    this.acks = new AckWriter(stream, from, (error, reason) => this.fail(error, reason), {
      maxReplyBytes: context.limits.maxReplyBytes,
      idleTimeout: context.limits.idleTimeout,
      clock: context.clock
    })
    this.queue = new AnswerQueue({
      acks: this.acks,
      process: (frame) => context.answers.process(frame, from),
      ended: () => this.finished,
      released: () => {
        // the payload is let go: give its bytes back (growth is charged after the next chunk)
        const held = this.held()
        if (held < context.account.held) context.account.resize(held)
      },
      drained: () => {
        if (!this.remoteEnded) this.armIdle()
      }
    })
    this.idle = new StreamTimer(context.clock, context.limits.idleTimeout, () => {
      if (!this.queue.busy) {
        const error = new Error(
          `no complete frame from ${from} in ${context.limits.idleTimeout} ms`
        )
        this.fail(error, 'idle')
      }
    })
  }

  async run(): Promise<void> {
    this.armIdle()
    let stopped = false
    try {
      for await (const chunk of this.stream) {
        this.reader.push(chunk)
        if ((await this.read()) === 'stop' || (await this.settleBudget()) === 'stop') {
          stopped = true
          break
        }
      }
      this.remoteEnded = true
      if (this.stream.status === 'reset' || this.stream.status === 'aborted') {
        this.fail(new Error(`stream ${this.stream.status} by ${this.from}`), 'reset', false)
      }
    } catch (error) {
      this.fail(asError(error), 'reset', false)
    }
    this.idle.disarm()
    await this.queue.settled()
    await this.finish(stopped)
    this.context.account.release()
  }

  /** Answers what is queued, then closes the stream (the receiver is stopping). */
  async close(): Promise<void> {
    await this.queue.settled()
    await this.finish(false)
  }

  /** Resets the stream (the stop ran out of time): what is unanswered is retried by its sender. */
  reset(error: Error): void {
    if (this.finished) {
      if (this.stream.status === 'open') this.stream.abort(error)
      return
    }
    this.fail(error, 'stopped')
  }

  /** Bytes this stream holds: the reader's buffer and the payloads waiting for an answer. */
  private held(): number {
    return this.reader.buffered + this.queue.bytes
  }

  /**
   * Charges what the stream holds after a chunk. Over the budget, the
   * payload being read is given up (answered `try-later`); if the stream
   * still holds too much, it is reset.
   */
  private async settleBudget(): Promise<Reading> {
    const { account } = this.context
    if (account.resize(this.held())) return 'more'
    const header = this.reader.reading
    if (header !== undefined) {
      this.reader.abandon()
      this.refuseOverBudget(header, this.held())
      if ((await this.read()) === 'stop') return 'stop'
      if (account.resize(this.held())) return 'more'
    }
    return this.fail(
      new Error(
        `${this.from} would have ${this.held()} bytes buffered on one stream: ${this.over()}`
      ),
      'over-budget'
    )
  }

  private over(): string {
    const { maxBytes, maxBytesPerPeer } = this.context.account.limits
    return `over the peer's share of ${maxBytesPerPeer} bytes or the receiver's budget of ${maxBytes}`
  }

  private refuseOverBudget(header: MessageHeader, bytes: number): void {
    const answer = this.context.answers.refuseOverBudget(
      header,
      this.from,
      `buffering ${bytes} bytes for ${this.from} would go ${this.over()}`
    )
    this.queue.push({ sequence: this.expected++, answer, bytes: 0 })
  }

  /** Handles every event the buffered bytes complete; 'stop' when reading must end. */
  private async read(): Promise<Reading> {
    const { answers } = this.context
    for (;;) {
      if (this.finished) return 'stop'
      let event: ReturnType<MessageFrameReader['next']>
      try {
        event = this.reader.next()
      } catch (error) {
        if (error instanceof FrameError && error.kind === 'too-large') {
          // refused from the length prefix: its body is never read
          const answer = answers.refuseFrame(this.from, 'too-large', error.message)
          this.queue.push({ sequence: this.expected++, answer, bytes: 0 })
          return 'stop'
        }
        return this.fail(asError(error), 'malformed')
      }
      if (event === undefined) return 'more'
      switch (event.kind) {
        case 'header': {
          if (!this.inSequence(event.header.sequence)) return 'stop'
          const reading = await this.decide(event.header, event.payloadBytes)
          if (reading === 'stop') return 'stop'
          break
        }
        case 'refused': {
          if (!this.inSequence(event.sequence)) return 'stop'
          const answer = answers.refuseFrame(this.from, event.code, event.reason)
          this.queue.push({ sequence: this.expected++, answer, bytes: 0 })
          break
        }
        case 'message': {
          const { headerBytes: _, ...header } = event.header
          this.queue.push({
            sequence: this.expected++,
            frame: { ...header, payload: event.payload },
            bytes: event.frameBytes
          })
          this.restartIdle()
          break
        }
        case 'skipped':
          this.restartIdle()
          break
      }
      if (!this.withinLimits()) return 'stop'
    }
  }

  /** Reads or skips the payload of `header`; a peer not on the allowlist ends the stream. */
  private async decide(header: MessageHeader, payloadBytes: number): Promise<Reading> {
    const { answers, account } = this.context
    if (!answers.allows(this.from)) {
      // answer from the header, never read the payload, and stop reading this peer
      const answer = answers.refuseUnlisted(header, this.from)
      this.queue.push({ sequence: this.expected++, answer, bytes: 0 })
      return 'stop'
    }
    let answer = answers.admit(header, this.from)
    if (answer instanceof Promise) {
      // an asynchronous authorize hook: no more bytes are taken from the peer meanwhile
      if (this.stream.readStatus === 'readable') this.stream.pause()
      try {
        answer = await answer
      } finally {
        if (this.stream.readStatus === 'paused') this.stream.resume()
      }
      if (this.finished) return 'stop'
    }
    if (answer === undefined) {
      // what the stream will hold once this frame is in: refused now if that cannot fit
      const target =
        this.queue.bytes + Math.max(this.reader.buffered, header.headerBytes + payloadBytes)
      if (account.fits(target - account.held)) {
        this.reader.accept()
        return 'more'
      }
      this.reader.skip()
      this.refuseOverBudget(header, target)
      return 'more'
    }
    this.reader.skip()
    this.queue.push({ sequence: this.expected++, answer, bytes: 0 })
    return 'more'
  }

  private inSequence(sequence: number): boolean {
    if (sequence === this.expected) return true
    this.fail(new FrameError(`frame sequence ${sequence}, expected ${this.expected}`), 'malformed')
    return false
  }

  private withinLimits(): boolean {
    const { maxFramesInFlight, maxBytesInFlight, maxMessageBytes, maxHeaderBytes } =
      this.context.limits
    if (
      this.queue.frames > maxFramesInFlight ||
      this.queue.bytes > maxBytesInFlight + maxMessageBytes + maxHeaderBytes
    ) {
      this.fail(
        new Error(
          `${this.from} has ${this.queue.frames} frames (${this.queue.bytes} bytes) unacknowledged, over the limits of ${maxFramesInFlight} frames and ${maxBytesInFlight} bytes`
        ),
        'too-many-frames'
      )
      return false
    }
    return true
  }

  /**
   * Sends what is left and closes our side. After reading was stopped (a
   * refused peer, an oversized prefix) the stream is reset once the acks are
   * out, so a peer that keeps writing holds nothing here.
   */
  private async finish(stopped: boolean): Promise<void> {
    if (this.finished) return
    this.acks.flush()
    this.finished = true
    this.idle.disarm()
    const { clock, limits } = this.context
    const closed = await closeWithin(this.stream, clock, limits.idleTimeout)
    if (closed && stopped && this.stream.remoteWriteStatus !== 'closed')
      this.stream.abort(new Error('stopped reading'))
  }

  /** Resets the stream and reports why; returns 'stop' so reading ends. */
  private fail(error: Error, reason: StreamErrorReason, abort = true): 'stop' {
    if (this.finished) return 'stop'
    this.finished = true
    this.idle.disarm()
    this.acks.stop()
    this.context.streamError(reason, error)
    if (abort) this.stream.abort(error)
    return 'stop'
  }

  /** A frame completed: the idle clock starts over. */
  private restartIdle(): void {
    this.idle.disarm()
    if (!this.queue.busy) this.armIdle()
  }

  private armIdle(): void {
    if (!this.finished) this.idle.arm()
  }
}

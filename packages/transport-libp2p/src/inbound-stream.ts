import { systemClock, type TimerHandle } from '@dntkit/core'
import type { Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { ACK_BACKLOG_BYTES } from './constants.js'
import { encodeAck, type MessageFrame } from './envelope-codec.js'
import { FrameError } from './frame-error.js'
import { MessageFrameReader } from './message-frame-reader.js'
import type { MessageHeader } from './message-header.js'
import type { Answer, EnvelopeReceiverCore } from './receiver.js'
import type { StreamErrorReason } from './receiver-stats.js'

/** Acks gathered before they are written in one send, at most. */
const MAX_ACKS_PER_WRITE = 64

/** A frame to answer: a message to process, or an answer decided from its header or size. */
type Work =
  | { sequence: number; frame: MessageFrame; bytes: number }
  | { sequence: number; answer: Answer; bytes: number }

/** Whether reading goes on after a batch of bytes. */
type Reading = 'more' | 'stop'

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

/**
 * Serves one inbound envelope stream. Frames are read header first: the
 * allowlist, the rate limit, the handler table and the `authorize` hook
 * decide from the header whether the payload is read at all (a refused one
 * is discarded as it arrives). Accepted frames are processed one at a time
 * (FIFO) and acked in order, several acks per write in a burst. A malformed
 * frame, exceeded limits or `idleTimeout` without a complete frame reset the
 * stream; nothing here throws into libp2p.
 */
export class InboundEnvelopeStream {
  private readonly reader: MessageFrameReader
  private readonly queue: Work[] = []
  private expected = 0
  private unackedBytes = 0
  private unackedFrames = 0
  /** Settles when the queue has been worked off (may be already settled). */
  private processing: Promise<void> | undefined
  /** Whether `process()` is working the queue now (it may finish synchronously). */
  private busy = false
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
    this.reader = new MessageFrameReader(receiver.options)
  }

  async run(): Promise<void> {
    this.armIdle()
    let stopped = false
    try {
      for await (const chunk of this.stream) {
        this.reader.push(chunk)
        if ((await this.read()) === 'stop') {
          stopped = true
          break
        }
      }
      this.remoteEnded = true
      if (this.stream.status === 'reset' || this.stream.status === 'aborted') {
        this.fail(new Error(`stream ${this.stream.status} by ${this.from}`), 'reset', false)
      }
    } catch (error) {
      const cause = asError(error)
      this.fail(cause, 'reset', false)
    }
    this.disarmIdle()
    await this.processing
    await this.finish(stopped)
  }

  /** Answers what is queued, then closes the stream (the receiver is stopping). */
  async close(): Promise<void> {
    await this.processing
    await this.finish(false)
  }

  /** Handles every event the buffered bytes complete; 'stop' when reading must end. */
  private async read(): Promise<Reading> {
    for (;;) {
      if (this.finished) return 'stop'
      let event: ReturnType<MessageFrameReader['next']>
      try {
        event = this.reader.next()
      } catch (error) {
        if (error instanceof FrameError && error.kind === 'too-large') {
          // refused from the length prefix: its body is never read
          const answer = this.receiver.refuseFrame(this.from, 'too-large', error.message)
          this.enqueue({ sequence: this.expected++, answer, bytes: 0 })
          return 'stop'
        }
        return this.fail(asError(error), 'malformed')
      }
      if (event === undefined) return 'more'
      switch (event.kind) {
        case 'header': {
          if (!this.inSequence(event.header.sequence)) return 'stop'
          const reading = await this.decide(event.header)
          if (reading === 'stop') return 'stop'
          break
        }
        case 'refused': {
          if (!this.inSequence(event.sequence)) return 'stop'
          const answer = this.receiver.refuseFrame(this.from, event.code, event.reason)
          this.enqueue({ sequence: this.expected++, answer, bytes: 0 })
          break
        }
        case 'message': {
          const { headerBytes: _, ...header } = event.header
          this.enqueue({
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
  private async decide(header: MessageHeader): Promise<Reading> {
    if (!this.receiver.allows(this.from)) {
      // answer from the header, never read the payload, and stop reading this peer
      const answer = this.receiver.refuseUnlisted(header, this.from)
      this.enqueue({ sequence: this.expected++, answer, bytes: 0 })
      return 'stop'
    }
    let answer = this.receiver.admit(header, this.from)
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
      this.reader.accept()
      return 'more'
    }
    this.reader.skip()
    this.enqueue({ sequence: this.expected++, answer, bytes: 0 })
    return 'more'
  }

  private inSequence(sequence: number): boolean {
    if (sequence === this.expected) return true
    this.fail(new FrameError(`frame sequence ${sequence}, expected ${this.expected}`), 'malformed')
    return false
  }

  private withinLimits(): boolean {
    const { maxFramesInFlight, maxBytesInFlight, maxMessageBytes, maxHeaderBytes } =
      this.receiver.options
    if (
      this.unackedFrames > maxFramesInFlight ||
      this.unackedBytes > maxBytesInFlight + maxMessageBytes + maxHeaderBytes
    ) {
      this.fail(
        new Error(
          `${this.from} has ${this.unackedFrames} frames (${this.unackedBytes} bytes) unacknowledged, over the limits of ${maxFramesInFlight} frames and ${maxBytesInFlight} bytes`
        ),
        'too-many-frames'
      )
      return false
    }
    return true
  }

  private enqueue(work: Work): void {
    this.queue.push(work)
    this.unackedFrames++
    this.unackedBytes += work.bytes
    if (!this.busy) this.processing = this.process()
  }

  private async process(): Promise<void> {
    this.busy = true
    try {
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
    } finally {
      this.busy = false
    }
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
      const cause = asError(error)
      this.fail(cause, 'reset')
    }
  }

  /**
   * Sends what is left and closes our side. After reading was stopped (a
   * refused peer, an oversized prefix) the stream is reset once the acks are
   * out, so a peer that keeps writing holds nothing here.
   */
  private async finish(stopped: boolean): Promise<void> {
    if (this.finished) return
    this.flushAcks()
    this.finished = true
    this.disarmIdle()
    try {
      await this.stream.close({ signal: AbortSignal.timeout(this.receiver.options.idleTimeout) })
      if (stopped && this.stream.remoteWriteStatus !== 'closed')
        this.stream.abort(new Error('stopped reading'))
    } catch {
      this.stream.abort(new Error('envelope stream close failed'))
    }
  }

  /** Resets the stream and reports why; returns 'stop' so reading ends. */
  private fail(error: Error, reason: StreamErrorReason, abort = true): 'stop' {
    if (this.finished) return 'stop'
    this.finished = true
    this.disarmIdle()
    if (this.ackTimer != null) systemClock.clearTimeout(this.ackTimer)
    this.receiver.streamError(this.from, reason, error)
    if (abort) this.stream.abort(error)
    return 'stop'
  }

  /** A frame completed: the idle clock starts over. */
  private restartIdle(): void {
    this.disarmIdle()
    if (!this.busy) this.armIdle()
  }

  private armIdle(): void {
    if (this.idleTimer != null || this.finished) return
    this.idleTimer = systemClock.setTimeout(() => {
      this.idleTimer = undefined
      if (!this.busy) {
        this.fail(
          new Error(
            `no complete frame from ${this.from} in ${this.receiver.options.idleTimeout} ms`
          ),
          'idle'
        )
      }
    }, this.receiver.options.idleTimeout)
  }

  private disarmIdle(): void {
    if (this.idleTimer == null) return
    systemClock.clearTimeout(this.idleTimer)
    this.idleTimer = undefined
  }
}

import { systemClock } from '@dntkit/core'
import type { Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { MAX_ACK_BYTES } from './constants.js'
import { type AckFrame, decodeAck, encodeMessageFrame, FrameError } from './envelope-codec.js'
import { FrameDecoder } from './frame-decoder.js'
import type { PendingFrame } from './pending-frame.js'

/** What an `EnvelopeStream` tells its session. */
export interface EnvelopeStreamEvents {
  /** `frame` got its ack (it has left the window). */
  answered(frame: PendingFrame, ack: AckFrame): void
  /**
   * The stream is done: `unanswered` are the frames written to it without an
   * ack, in the order they were written; `error` says why it ended, and is
   * undefined when it was retired with nothing unanswered.
   */
  ended(unanswered: PendingFrame[], error: Error | undefined): void
  /** A malformed ack (the stream is reset). */
  badAck(error: FrameError): void
}

/** The window of one stream, and the largest reply its acks may carry. */
export interface WindowLimits {
  maxFramesInFlight: number
  maxBytesInFlight: number
  maxReplyBytes: number
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

/**
 * One outbound envelope stream: takes frames from the front of the
 * session's `waiting` list while its window allows, writes those that are
 * ready in the same tick in one send, matches acks by sequence number
 * (numbered from 0 on every stream), and ends once: reset, closed by the
 * receiver, aborted, or retired (nothing more written, closed once every
 * frame in flight was answered).
 */
export class EnvelopeStream {
  private readonly inFlight = new Map<number, PendingFrame>()
  private bytesInFlight = 0
  private nextSequence = 0
  private awaitingDrain = false
  private pumpScheduled = false
  private retiring = false
  private done = false

  constructor(
    private readonly stream: Stream,
    private readonly waiting: PendingFrame[],
    private readonly limits: WindowLimits,
    private readonly events: EnvelopeStreamEvents
  ) {
    void this.readAcks()
  }

  /** Frames written and not answered yet. */
  get unanswered(): number {
    return this.inFlight.size
  }

  /** Writes what waits (in a microtask, so frames of one tick share a send). */
  schedulePump(): void {
    if (this.pumpScheduled || this.done || this.retiring) return
    this.pumpScheduled = true
    queueMicrotask(() => {
      this.pumpScheduled = false
      this.pump()
    })
  }

  /** Writes nothing more; once every frame in flight is answered, closes the stream and ends. */
  retire(): void {
    this.retiring = true
    this.endIfRetired()
  }

  /** Resets the stream: every frame in flight ends unanswered. */
  abort(error: Error): void {
    if (this.done) return
    this.stream.abort(error)
    this.end(error)
  }

  /**
   * Ends the stream for good: reset at once when frames are in flight, else
   * our side is closed and the receiver's close is awaited for `wait` ms
   * (then it is reset).
   */
  async shutdown(error: Error, wait: number): Promise<void> {
    if (this.done || this.inFlight.size > 0 || this.stream.status !== 'open') {
      this.abort(error)
      return
    }
    this.end(undefined)
    const stream = this.stream
    if (stream.status !== 'open') return
    await new Promise<void>((resolve) => {
      const timer = systemClock.setTimeout(() => {
        stream.abort(error)
        resolve()
      }, wait)
      stream.addEventListener(
        'close',
        () => {
          systemClock.clearTimeout(timer)
          resolve()
        },
        { once: true }
      )
    })
  }

  /** Writes waiting frames while the window allows, as one send. */
  private pump(): void {
    if (this.done || this.retiring || this.awaitingDrain) return
    const { maxFramesInFlight, maxBytesInFlight } = this.limits
    const batch = new Uint8ArrayList()
    while (this.waiting.length > 0) {
      const frame = this.waiting[0] as PendingFrame
      const full =
        this.inFlight.size >= maxFramesInFlight ||
        this.bytesInFlight + frame.size > maxBytesInFlight
      // one frame of any size always fits an empty window
      if (this.inFlight.size > 0 && full) break
      this.waiting.shift()
      frame.sequence = this.nextSequence++
      const { entry } = frame
      const bytes = encodeMessageFrame({
        sequence: frame.sequence,
        id: entry.id,
        protocol: entry.protocol,
        ...(entry.meta == null ? {} : { meta: entry.meta }),
        payload: entry.payload
      })
      frame.size = bytes.byteLength
      this.inFlight.set(frame.sequence, frame)
      this.bytesInFlight += frame.size
      batch.append(bytes)
    }
    if (batch.byteLength === 0) return
    try {
      if (this.stream.send(batch)) return
    } catch (error) {
      this.abort(asError(error))
      return
    }
    this.awaitingDrain = true
    this.stream.onDrain().then(
      () => {
        this.awaitingDrain = false
        this.pump()
      },
      (error: unknown) => this.abort(asError(error))
    )
  }

  private async readAcks(): Promise<void> {
    const { maxReplyBytes } = this.limits
    // an ack's reply field: its length prefix (at most 8 bytes) and the reply
    const decoder = new FrameDecoder(MAX_ACK_BYTES + 8 + maxReplyBytes)
    try {
      for await (const chunk of this.stream) {
        for (const body of decoder.push(chunk)) this.onAck(decodeAck(body, maxReplyBytes))
      }
      // a remote abort ends the loop without an error
      const { status } = this.stream
      if (status === 'reset' || status === 'aborted') {
        throw new Error(`the envelope stream was ${status}`)
      }
      const left = this.inFlight.size
      this.end(
        left === 0
          ? new Error('the receiver closed the envelope stream')
          : new Error(
              `the receiver closed the envelope stream with ${left} ${left === 1 ? 'message' : 'messages'} unanswered`
            )
      )
    } catch (error) {
      if (error instanceof FrameError) this.events.badAck(error)
      this.abort(asError(error))
    }
  }

  private onAck(ack: AckFrame): void {
    if (this.done) return
    const frame = this.inFlight.get(ack.sequence)
    if (frame == null) {
      throw new FrameError(
        ack.sequence >= this.nextSequence
          ? `ack for frame ${ack.sequence}, never sent`
          : `a second ack for frame ${ack.sequence}`
      )
    }
    this.inFlight.delete(ack.sequence)
    this.bytesInFlight -= frame.size
    this.events.answered(frame, ack)
    this.endIfRetired()
    this.schedulePump()
  }

  private endIfRetired(): void {
    if (this.retiring && this.inFlight.size === 0) this.end(undefined)
  }

  /** Reports the end once; a stream that is still open is closed on our side. */
  private end(error: Error | undefined): void {
    if (this.done) return
    this.done = true
    const unanswered = [...this.inFlight.values()]
    this.inFlight.clear()
    this.bytesInFlight = 0
    if (this.stream.status === 'open') {
      this.stream.close().catch((closeError: unknown) => this.stream.abort(asError(closeError)))
    }
    this.events.ended(unanswered, error)
  }
}

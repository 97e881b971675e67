import type { AckWriter } from './ack-writer.js'
import type { MessageFrame } from './envelope-codec.js'
import type { Answer } from './receiver-types.js'

/** A frame to answer: a message to process, or an answer decided from its header or size. */
export type Work =
  | { sequence: number; frame: MessageFrame; bytes: number }
  | { sequence: number; answer: Answer; bytes: number }

/** What an `AnswerQueue` works with. */
export interface AnswerQueueInit {
  acks: AckWriter
  /** Decides the answer to a message (runs its handler). */
  process(frame: MessageFrame): Promise<Answer>
  /** Whether the stream ended: nothing more is answered. */
  ended(): boolean
  /** An answered frame's bytes were let go. */
  released(): void
  /** The queue was worked off. */
  drained(): void
}

/**
 * The frames of one envelope stream waiting for their answer, answered one
 * at a time in order (FIFO), each ack written once its answer is known. A
 * handler runs only when the acks written before it have room (`AckWriter.room()`).
 */
export class AnswerQueue {
  private readonly queue: Work[] = []
  /** Frames queued and not yet acked. */
  frames = 0
  /** Payload bytes queued and not yet acked. */
  bytes = 0
  /** Whether a frame is being answered now (its handler may be running). */
  busy = false
  private processing: Promise<void> | undefined

  constructor(private readonly init: AnswerQueueInit) {}

  push(work: Work): void {
    this.queue.push(work)
    this.frames++
    this.bytes += work.bytes
    if (!this.busy) this.processing = this.process()
  }

  /** Settles when what is queued has been answered (or the stream ended). */
  async settled(): Promise<void> {
    await this.processing
  }

  private async process(): Promise<void> {
    this.busy = true
    try {
      while (this.queue.length > 0 && !this.init.ended()) {
        const work = this.queue.shift() as Work
        // a handler's ack may carry a large reply: it runs once the peer read what waits
        if ('frame' in work) await this.init.acks.room()
        if (this.init.ended()) break
        const answer = 'answer' in work ? work.answer : await this.answer(work.frame)
        if (this.init.ended()) break
        this.frames--
        this.bytes -= work.bytes
        this.init.released()
        this.init.acks.add(work.sequence, answer, this.queue.length === 0)
      }
    } finally {
      this.busy = false
    }
    this.init.drained()
  }

  private async answer(frame: MessageFrame): Promise<Answer> {
    try {
      return await this.init.process(frame)
    } catch (error) {
      // process() answers every handler outcome itself; this is a bug guard
      return {
        status: 'try-later',
        code: 'internal-error',
        reason: (error as Error)?.message ?? String(error)
      }
    }
  }
}

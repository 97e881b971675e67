import { describeError, type Logger, type Outbox } from '@dntkit/core'
import type { ReplyOutput } from './reply-output.js'

/**
 * Reports the replies an outbox keeps in its store (of messages delivered
 * after their `send()` returned, in this run or an earlier one) and takes
 * each from the store once it was reported, so a crash in between reports
 * it again next time rather than never. After a failed report nothing more
 * is taken: what was not reported stays in the store.
 */
export class ReplyTaker {
  private readonly taking = new Set<Promise<void>>()
  /** Why reporting stopped, if it did. */
  failure: Error | undefined

  constructor(
    private readonly outbox: Outbox,
    private readonly output: ReplyOutput,
    private readonly wants: (id: string) => boolean,
    private readonly log: Logger
  ) {}

  /** Reports and takes every reply the store holds now. */
  takeWaiting(): void {
    for (const pending of this.outbox.replies()) this.take(pending.id, pending.reply)
  }

  /** A message was delivered with `reply`: reported and taken when the outbox kept it. */
  delivered(id: string, reply: Uint8Array): void {
    if (!this.wants(id)) return
    // delivered at once, the reply went to send() and nothing was kept
    if (!this.outbox.replies().some((pending) => pending.id === id)) return
    this.take(id, reply)
  }

  /** Resolves once every reply reported so far is gone from the store. */
  async settled(): Promise<void> {
    while (this.taking.size > 0) await Promise.all([...this.taking])
  }

  private take(id: string, reply: Uint8Array): void {
    if (this.failure !== undefined) return
    try {
      this.output.write(id, reply)
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error))
      return
    }
    const taking: Promise<void> = this.outbox.takeReply(id).then(
      () => {
        this.taking.delete(taking)
      },
      (error: unknown) => {
        this.taking.delete(taking)
        this.log.error(
          'could not take the reply of %s from the store: %s',
          id,
          describeError(error)
        )
      }
    )
    this.taking.add(taking)
  }
}

import { describeError, type Logger } from '@dntkit/core'
import type { AuthorizeHook } from './authorization.js'
import type { Processed } from './dedupe-memory.js'
import type { DedupeWindow, ReplyOutcome } from './dedupe-window.js'
import type { MessageFrame } from './envelope-codec.js'
import { MessageRefusedError, TryLaterError } from './handler-errors.js'
import type { MessageHeader } from './message-header.js'
import type { PeerRateLimiter, RateLimit } from './rate-limiter.js'
import type { ReceiverCounters } from './receiver-stats.js'
import type {
  Answer,
  EnvelopeHandler,
  EnvelopeMessage,
  ReceivedDetail,
  ReceiverEvents
} from './receiver-types.js'

/** What `EnvelopeAnswers` decides with. */
export interface EnvelopeAnswersInit {
  handlers: Map<string, EnvelopeHandler>
  allow: Set<string> | undefined
  authorize: AuthorizeHook | undefined
  rateLimit: RateLimit | false
  rateLimiter: PeerRateLimiter | undefined
  dedupe: DedupeWindow | undefined
  /** Largest reply a handler may return; a larger one is answered `rejected` / `reply-too-large`. */
  maxReplyBytes: number
  counters: ReceiverCounters
  log: Logger
  /** Whether the receiver is stopping (new frames are answered `try-later`). */
  stopping(): boolean
  dispatch<K extends keyof ReceiverEvents>(
    name: K,
    detail: ReceiverEvents[K] extends CustomEvent<infer D> ? D : never
  ): void
}

/**
 * The answer to each envelope frame: from its header (allowlist, stopping,
 * rate limit, a handler for its protocol, `authorize`, the memory budget) and
 * then from its handler, which runs at most once per (peer, id) inside the
 * dedupe window; a duplicate is answered with the reply the window kept.
 * Counts every answer and dispatches its event.
 */
export class EnvelopeAnswers {
  private readonly inProgress = new Map<string, Promise<Answer>>()

  constructor(private readonly init: EnvelopeAnswersInit) {}

  /** Settles when every handler running now has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inProgress.values()])
  }

  /** Whether `from` may use envelope streams at all (the allowlist). */
  allows(from: string): boolean {
    return this.init.allow === undefined || this.init.allow.has(from)
  }

  /** The answer to a frame from a peer that is not on the allowlist. */
  refuseUnlisted(header: MessageHeader, from: string): Answer {
    return this.refuse(
      detailOf(header, from),
      'rejected',
      'unauthorized',
      `peer ${from} is not on the allowlist`
    )
  }

  /** The answer to a frame whose payload would pass the memory budget: retry later. */
  refuseOverBudget(header: MessageHeader, from: string, reason: string): Answer {
    return this.refuse(detailOf(header, from), 'try-later', 'over-budget', reason)
  }

  /** Answers a frame refused from its size alone (id and protocol may be unknown). */
  refuseFrame(from: string, code: string, reason: string): Answer {
    const detail: ReceivedDetail = { id: '', from, protocol: '', mode: 'envelope' }
    return this.refuse(detail, 'rejected', code, reason)
  }

  /**
   * Decides from a frame's header whether its payload is read: undefined
   * reads it; an answer refuses it (the payload is skipped). Checks, in
   * order: stopping, the peer's rate limit, a handler for the inner protocol,
   * the `authorize` hook (a promise when the hook is asynchronous).
   */
  admit(header: MessageHeader, from: string): Answer | undefined | Promise<Answer | undefined> {
    const detail = detailOf(header, from)
    if (this.init.stopping())
      return this.refuse(detail, 'try-later', 'stopping', 'the receiver is stopping')
    if (this.init.rateLimiter !== undefined && !this.init.rateLimiter.take(from)) {
      const { messagesPerSecond, burst } = this.init.rateLimit as RateLimit
      return this.refuse(
        detail,
        'try-later',
        'rate-limited',
        `${from} exceeds ${messagesPerSecond} messages/s (burst ${burst})`
      )
    }
    if (!this.init.handlers.has(header.protocol)) return this.unknownProtocol(detail)
    const authorize = this.init.authorize
    if (authorize === undefined) return undefined
    const failed = (error: unknown): Answer =>
      this.refuse(
        detail,
        'try-later',
        'authorize-error',
        `authorize failed: ${describeError(error)}`
      )
    const verdict = (allowed: unknown): Answer | undefined =>
      allowed === true
        ? undefined
        : this.refuse(detail, 'rejected', 'unauthorized', `not authorized for ${header.protocol}`)
    let outcome: boolean | Promise<boolean>
    try {
      outcome = authorize(from, header.protocol, header.meta)
    } catch (error) {
      return failed(error)
    }
    if (outcome instanceof Promise) return outcome.then(verdict, failed)
    return verdict(outcome)
  }

  /** Decides the answer to one frame, calling its handler at most once per id in the window. */
  async process(frame: MessageFrame, from: string): Promise<Answer> {
    const detail = detailOf(frame, from)
    if (this.init.stopping())
      return this.refuse(detail, 'try-later', 'stopping', 'the receiver is stopping')
    // looked up again: a handler may have been removed since the header was admitted
    const handler = this.init.handlers.get(frame.protocol)
    if (handler == null) return this.unknownProtocol(detail)
    const dedupe = this.init.dedupe
    if (dedupe == null) return this.run(handler, frame, from, undefined)
    const key = `${from}/${frame.id}`
    const processed = dedupe.lookup(key)
    if (processed !== undefined) return this.remembered(detail, processed)
    const running = this.inProgress.get(key)
    if (running != null) {
      // the same id on another stream (a sender that restarted mid-delivery): share its outcome
      const answer = await running
      return answer.status === 'ok' ? this.duplicate(detail, answer.reply) : answer
    }
    if (!dedupe.admits(key, from, this.inProgress.size)) {
      return this.refuse(
        detail,
        'try-later',
        'dedupe-full',
        'the dedupe window is full of recent ids of other peers; retry later'
      )
    }
    const outcome = this.run(handler, frame, from, key)
    this.inProgress.set(key, outcome)
    try {
      return await outcome
    } finally {
      this.inProgress.delete(key)
    }
  }

  private async run(
    handler: EnvelopeHandler,
    frame: MessageFrame,
    from: string,
    key: string | undefined
  ): Promise<Answer> {
    const detail = detailOf(frame, from)
    const message: EnvelopeMessage = {
      id: frame.id,
      protocol: frame.protocol,
      payload: frame.payload
    }
    if (frame.meta != null) message.meta = frame.meta
    let result: unknown
    try {
      result = await handler(message, from)
    } catch (error) {
      return this.failed(detail, error)
    }
    // only bytes are a reply: whatever else a handler returns is not sent
    const reply = result instanceof Uint8Array ? new Uint8Array(result) : undefined
    const tooLarge = reply !== undefined && reply.byteLength > this.init.maxReplyBytes
    if (key != null) await this.remember(key, frame, from, tooLarge ? { tooLarge } : { reply })
    if (tooLarge) return this.replyTooLarge(detail, reply.byteLength)
    this.init.counters.messages++
    this.init.dispatch('message', detail)
    return reply === undefined ? { status: 'ok' } : { status: 'ok', reply }
  }

  /** Records a processed id in the dedupe window; a store failure is reported, not thrown. */
  private async remember(
    key: string,
    frame: MessageFrame,
    from: string,
    outcome: ReplyOutcome
  ): Promise<void> {
    const dedupe = this.init.dedupe as DedupeWindow
    try {
      await dedupe.add(key, { peer: from, protocol: frame.protocol }, outcome)
    } catch (error) {
      this.init.log.error('could not record %s in the dedupe store: %s', key, describeError(error))
      this.init.dispatch('dedupe-error', { error })
    }
  }

  /**
   * A handler that threw: `MessageRefusedError` refuses the message for good
   * (`rejected`, its code); `TryLaterError` and any other error ask the
   * sender to retry (`try-later`, code `try-later` or `handler-error`).
   */
  private failed(detail: ReceivedDetail, error: unknown): Answer {
    if (MessageRefusedError.isInstance(error)) {
      return this.refuse(detail, 'rejected', error.reason, error.message)
    }
    if (TryLaterError.isInstance(error)) {
      return this.refuse(detail, 'try-later', 'try-later', error.message)
    }
    this.init.log.error(
      'the handler of %s threw on message %s from %s; its sender retries it: %s',
      detail.protocol,
      detail.id,
      detail.from,
      describeError(error)
    )
    return this.refuse(detail, 'try-later', 'handler-error', describeError(error))
  }

  /** The answer to an id the window remembers: `duplicate`, with its reply when it was kept. */
  private remembered(detail: ReceivedDetail, processed: Processed): Answer {
    switch (processed.replyState) {
      case 'kept':
        return this.duplicate(detail, processed.reply)
      case 'too-large':
        return this.refuse(
          detail,
          'rejected',
          'reply-too-large',
          `processed before: the handler's reply was over maxReplyBytes (${this.init.maxReplyBytes} bytes)`
        )
      case 'dropped':
        this.init.counters.duplicatesWithoutReply++
        return this.duplicate(detail, undefined)
      default:
        return this.duplicate(detail, undefined)
    }
  }

  private replyTooLarge(detail: ReceivedDetail, bytes: number): Answer {
    return this.refuse(
      detail,
      'rejected',
      'reply-too-large',
      `the handler ran, but its reply of ${bytes} bytes is over maxReplyBytes (${this.init.maxReplyBytes}); it is not sent, and the message is not processed again`
    )
  }

  /**
   * No handler for the inner protocol (yet: one may be registered later).
   * The wire code stays `unknown-protocol`; nothing is remembered, so a
   * retry after the handler was registered is handled.
   */
  private unknownProtocol(detail: ReceivedDetail): Answer {
    return this.refuse(detail, 'rejected', 'unknown-protocol', 'no handler for this protocol')
  }

  private duplicate(detail: ReceivedDetail, reply: Uint8Array | undefined): Answer {
    this.init.counters.duplicates++
    this.init.dispatch('duplicate', detail)
    return reply === undefined ? { status: 'duplicate' } : { status: 'duplicate', reply }
  }

  private refuse(
    detail: ReceivedDetail,
    status: 'rejected' | 'try-later',
    code: string,
    reason: string
  ): Answer {
    this.init.log(
      '%s message %s from %s (%s): %s %s',
      status,
      detail.id,
      detail.from,
      detail.protocol,
      code,
      reason
    )
    this.init.counters.answered(status, code)
    this.init.dispatch('rejected', { ...detail, status, code, reason })
    return { status, code, reason }
  }
}

function detailOf(frame: { id: string; protocol: string }, from: string): ReceivedDetail {
  return { id: frame.id, from, protocol: frame.protocol, mode: 'envelope' }
}

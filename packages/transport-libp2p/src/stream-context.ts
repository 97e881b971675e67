import type { Clock } from '@dntkit/core'
import type { EnvelopeAnswers } from './envelope-answers.js'
import type { BudgetAccount } from './memory-budget.js'
import type { ReaderLimits } from './message-frame-reader.js'
import type { StreamErrorReason } from './receiver-stats.js'
import type { RawHandler } from './receiver-types.js'

/** The limits one envelope stream is held to. */
export interface EnvelopeStreamLimits extends ReaderLimits {
  maxFramesInFlight: number
  maxBytesInFlight: number
  idleTimeout: number
  /** Largest reply a handler may return (the ack backlog makes room for one). */
  maxReplyBytes: number
}

/** What an inbound envelope stream needs from its receiver. */
export interface EnvelopeStreamContext {
  limits: EnvelopeStreamLimits
  /** Drives the idle timeout. */
  clock: Clock
  answers: Pick<
    EnvelopeAnswers,
    'allows' | 'refuseUnlisted' | 'admit' | 'refuseFrame' | 'refuseOverBudget' | 'process'
  >
  /** This stream's share of the memory budget. */
  account: BudgetAccount
  /** Counts and reports the stream cut off. */
  streamError(reason: StreamErrorReason, error: Error): void
}

/** What an inbound raw stream needs from its receiver. */
export interface RawStreamContext {
  limits: { maxMessageBytes: number; idleTimeout: number; maxReplyBytes: number }
  /** Drives the read timeout. */
  clock: Clock
  /** This stream's share of the memory budget. */
  account: BudgetAccount
  handler: RawHandler
  /** Counts a message whose handler resolved. */
  handled(): void
  /** Counts and reports the stream cut off. */
  streamError(reason: StreamErrorReason, error: Error): void
}

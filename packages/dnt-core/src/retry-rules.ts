import { backoffCeiling, guardedBackoffDelay } from './backoff.js'
import { describeError } from './errors.js'
import type { Logger } from './logger.js'
import type { PendingEntry } from './pending-entry.js'
import type { Level, Policy } from './policy.js'

/** How entries whose level is no longer in the policy behave: kept and retried, never lost. */
export const RESTORED_LEVEL: Level = {
  persist: true,
  maxRetries: Infinity,
  ttl: Infinity,
  backoff: { type: 'exponential', initial: 1_000, max: 300_000, jitter: 'full' },
  onExhausted: 'dead-letter'
}

/**
 * The shortest wait after a failed attempt (ms), whatever the level's backoff
 * gives: a function returning 0, a 1 ms fixed interval or a full-jitter draw
 * near 0 retries a failing peer at most 10 times a second, never in a hot
 * loop. The same as an exponential backoff's default `minimum`.
 */
export const MIN_BACKOFF = 100

/**
 * The delay of the one early attempt a backoff window allows when the peer
 * reported itself reachable during an attempt that found no connection (ms):
 * "at once", through a timer. At most once per window, so never a loop.
 */
export const EARLY_ATTEMPT_DELAY = 1

/** Level -> how long to wait, whether to give up, and how far a restored retry may lie ahead. */
export class RetryRules {
  private readonly brokenLevels = new Set<string>()

  constructor(
    private readonly policy: Policy,
    private readonly random: () => number,
    private readonly log: Logger
  ) {}

  level(name: string): Level {
    return this.policy.levels[name] ?? RESTORED_LEVEL
  }

  /** ms to wait after the peer's `failures`-th consecutive failure, for an entry of `levelName` (at least `MIN_BACKOFF`). */
  delay(levelName: string, failures: number): number {
    const delay = guardedBackoffDelay(
      this.level(levelName).backoff,
      failures,
      this.random,
      (error) => {
        // logged once per level: a broken function fails the same way every time
        if (this.brokenLevels.has(levelName)) return
        this.brokenLevels.add(levelName)
        this.log.error(
          'backoff function of level %s failed (%s); using the default exponential backoff',
          levelName,
          describeError(error)
        )
      }
    )
    return Math.max(MIN_BACKOFF, delay)
  }

  /** Out of retries: `maxRetries` counts the retries after the first attempt. */
  exhausted(entry: PendingEntry): boolean {
    return entry.attempts > this.level(entry.level).maxRetries
  }

  /** The level keeps its retry budget in the store, so a restart does not reset it. */
  durableBudget(entry: PendingEntry): boolean {
    const level = this.level(entry.level)
    return level.persist && level.maxRetries !== Infinity
  }

  /**
   * ms from now until a restored entry is due: its stored `nextAttemptAt`,
   * but never further ahead than its level's longest backoff (a time written
   * by a clock that was far ahead, or by another machine, is not honoured).
   */
  restoredDelay(entry: PendingEntry, wallNow: number): number {
    const ceiling = backoffCeiling(this.level(entry.level).backoff, entry.attempts)
    return Math.min(Math.max(0, entry.nextAttemptAt - wallNow), ceiling)
  }

  /** Monotonic time at which the entry's TTL runs out (`Infinity`: never). */
  expiresAt(entry: PendingEntry, monotonicNow: number, wallNow: number): number {
    const ttl = this.level(entry.level).ttl
    if (ttl === Infinity) return Infinity
    return monotonicNow + (entry.createdAt + ttl - wallNow)
  }
}

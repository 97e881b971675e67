import type { Clock } from '@dntkit/core'

/** A token bucket: `burst` messages at once, refilled at `messagesPerSecond`. */
export interface RateLimit {
  /** Messages per second one peer may send, sustained. */
  messagesPerSecond: number
  /** Messages one peer may send at once (the bucket's size). */
  burst: number
}

interface Bucket {
  tokens: number
  at: number
}

/**
 * One token bucket per remote peer. State is kept for at most `maxPeers`
 * peers: beyond that, buckets that have refilled are forgotten (losing
 * nothing), then the oldest.
 */
export class PeerRateLimiter {
  private readonly buckets = new Map<string, Bucket>()
  private readonly perMillisecond: number

  constructor(
    private readonly limit: RateLimit,
    private readonly clock: Clock,
    private readonly maxPeers: number
  ) {
    this.perMillisecond = limit.messagesPerSecond / 1000
  }

  /** Peers with state now. */
  get size(): number {
    return this.buckets.size
  }

  /** Takes one token of `peer`'s bucket; false when it is empty. */
  take(peer: string): boolean {
    const now = this.clock.now()
    let bucket = this.buckets.get(peer)
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxPeers) this.prune(now)
      bucket = { tokens: this.limit.burst, at: now }
      this.buckets.set(peer, bucket)
    } else {
      this.refill(bucket, now)
    }
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }

  private refill(bucket: Bucket, now: number): void {
    const elapsed = Math.max(0, now - bucket.at)
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + elapsed * this.perMillisecond)
    bucket.at = now
  }

  private prune(now: number): void {
    for (const [peer, bucket] of this.buckets) {
      this.refill(bucket, now)
      if (bucket.tokens >= this.limit.burst) this.buckets.delete(peer)
    }
    for (const peer of this.buckets.keys()) {
      if (this.buckets.size < this.maxPeers) break
      this.buckets.delete(peer)
    }
  }
}

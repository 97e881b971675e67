/** Buckets grow by this factor: a percentile read from them is within 5% of the true value. */
const GROWTH = 1.1
/** Bucket 0 holds everything under 1 ms; the last one everything over about 40 days. */
const BUCKETS = 200
const LOG_GROWTH = Math.log(GROWTH)

function bucketOf(milliseconds: number): number {
  if (!(milliseconds >= 1)) return 0
  return Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(milliseconds) / LOG_GROWTH))
}

/**
 * The value a bucket stands for: the geometric middle of its range
 * [1.1^(b-1), 1.1^b), within 5% of anything in it; 0 for under 1 ms.
 */
function representative(bucket: number): number {
  return bucket === 0 ? 0 : GROWTH ** (bucket - 0.5)
}

/** What `stats().latency` shows for one protocol or level. */
export interface LatencySummary {
  /** Messages delivered since `start()`. */
  delivered: number
  /** Attempts made per delivered message, on average (1: each got through at its first try). */
  attemptsPerDelivery: number
  /** From `send()` (the entry's `createdAt`) to delivered, ms: median, 95th and 99th percentile. */
  p50: number
  p95: number
  p99: number
}

/**
 * Send-to-delivered latency in a fixed amount of memory: 200 counters on a
 * logarithmic scale (1.6 KB), each percentile within 5% of the true one.
 */
export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS)
  private delivered = 0
  private attempts = 0

  record(milliseconds: number, attempts: number): void {
    const bucket = bucketOf(milliseconds)
    this.counts[bucket] = (this.counts[bucket] as number) + 1
    this.delivered++
    this.attempts += attempts
  }

  percentile(fraction: number): number {
    if (this.delivered === 0) return 0
    const rank = Math.max(1, Math.ceil(fraction * this.delivered))
    let seen = 0
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.counts[bucket] as number
      if (seen >= rank) return Math.round(representative(bucket))
    }
    return Math.round(representative(BUCKETS - 1))
  }

  summary(): LatencySummary {
    return {
      delivered: this.delivered,
      attemptsPerDelivery:
        this.delivered === 0 ? 0 : Math.round((this.attempts / this.delivered) * 100) / 100,
      p50: this.percentile(0.5),
      p95: this.percentile(0.95),
      p99: this.percentile(0.99)
    }
  }
}

/** Most groups tracked; deliveries of any further protocol count under `(other)`. */
const MAX_GROUPS = 256

/** One histogram per key (a protocol or a level), the number of keys bounded. */
export class LatencyByKey {
  private readonly groups = new Map<string, LatencyHistogram>()

  record(key: string, milliseconds: number, attempts: number): void {
    let histogram = this.groups.get(key)
    if (histogram === undefined) {
      const name = this.groups.size >= MAX_GROUPS ? '(other)' : key
      histogram = this.groups.get(name) ?? new LatencyHistogram()
      this.groups.set(name, histogram)
    }
    histogram.record(milliseconds, attempts)
  }

  toRecord(): Record<string, LatencySummary> {
    const record: Record<string, LatencySummary> = {}
    for (const [key, histogram] of this.groups) record[key] = histogram.summary()
    return record
  }

  clear(): void {
    this.groups.clear()
  }
}

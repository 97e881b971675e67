import type { Outbox, OutboxEvents } from '@dntkit/core'
import type { Metrics } from '@libp2p/interface'

/** Seconds; reaction latency is usually milliseconds, backoff-bound waits are minutes. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300]

/**
 * The `dnt()` service's metrics, registered once with the node's metrics
 * implementation (e.g. `@libp2p/prometheus-metrics`):
 *
 * - `dntkit_queue_depth{level}`: entries waiting after a failed attempt, by level
 * - `dntkit_deliveries_total`, `dntkit_failed_attempts_total`
 * - `dntkit_abandoned_total{reason}`: `exhausted`, `rejected`, `undeliverable`, `expired`
 * - `dntkit_reaction_latency_seconds`: from a peer with waiting entries being
 *   reported reachable to its first delivery after that
 */
export class DntMetrics {
  private readonly depth
  private readonly deliveries
  private readonly failures
  private readonly abandoned
  private readonly latency
  private readonly reachableAt = new Map<string, number>()
  /**
   * Peers whose reaction was measured and that have not failed since: a
   * second report (`peer:identify` after `peer:connect`) while they drain is
   * no new reaction.
   */
  private readonly reacted = new Set<string>()

  constructor(metrics: Metrics) {
    this.depth = metrics.registerMetricGroup('dntkit_queue_depth', {
      label: 'level',
      help: 'Entries waiting in the dntkit outbox after a failed attempt, by level'
    })
    this.deliveries = metrics.registerCounter('dntkit_deliveries_total', {
      help: 'Entries delivered by the dntkit outbox'
    })
    this.failures = metrics.registerCounter('dntkit_failed_attempts_total', {
      help: 'Failed delivery attempt rounds of the dntkit outbox'
    })
    this.abandoned = metrics.registerCounterGroup('dntkit_abandoned_total', {
      label: 'reason',
      help: 'Entries the dntkit outbox gave up on, by reason'
    })
    this.latency = metrics.registerHistogram('dntkit_reaction_latency_seconds', {
      help: 'Time from a peer with waiting entries becoming reachable to its first delivery',
      buckets: LATENCY_BUCKETS
    })
  }

  level(level: string, count: number): void {
    this.depth.update({ [level]: count })
  }

  /** Records the outbox's events until the returned function is called. */
  attach(outbox: Outbox, hasQueued: (peer: string) => boolean): () => void {
    const onReachable = (event: CustomEvent<{ peer: string }>): void => {
      const { peer } = event.detail
      if (hasQueued(peer) && !this.reachableAt.has(peer) && !this.reacted.has(peer))
        this.reachableAt.set(peer, performance.now())
    }
    const onDelivered = (event: CustomEvent<{ entry: { peer: string } }>): void => {
      this.deliveries.increment()
      const { peer } = event.detail.entry
      const since = this.reachableAt.get(peer)
      if (since != null) {
        this.reachableAt.delete(peer)
        this.reacted.add(peer)
        this.latency.observe((performance.now() - since) / 1000)
      }
      // drained: its next reaction starts with its next failure
      if (!hasQueued(peer)) this.reacted.delete(peer)
    }
    const onFailed = (event: CustomEvent<{ peer: string }>): void => {
      this.failures.increment()
      this.reachableAt.delete(event.detail.peer)
      this.reacted.delete(event.detail.peer)
    }
    const onAbandoned = (event: CustomEvent<OutboxEvents['abandoned']>): void => {
      this.abandoned.increment({ [event.detail.reason]: 1 })
    }
    const onExpired = (): void => {
      this.abandoned.increment({ expired: 1 })
    }
    outbox.addEventListener('peer-reachable', onReachable)
    outbox.addEventListener('delivered', onDelivered)
    outbox.addEventListener('attempt-failed', onFailed)
    outbox.addEventListener('abandoned', onAbandoned)
    outbox.addEventListener('expired', onExpired)
    return () => {
      outbox.removeEventListener('peer-reachable', onReachable)
      outbox.removeEventListener('delivered', onDelivered)
      outbox.removeEventListener('attempt-failed', onFailed)
      outbox.removeEventListener('abandoned', onAbandoned)
      outbox.removeEventListener('expired', onExpired)
      this.reachableAt.clear()
      this.reacted.clear()
    }
  }
}

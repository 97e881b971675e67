/**
 * How many ids each peer holds, with the peer holding the most found in
 * constant time: peers are kept in buckets by count, and counts move by one.
 */
export class PeerCounts {
  private readonly count = new Map<string, number>()
  private readonly buckets = new Map<number, Set<string>>()
  private max = 0

  increment(peer: string): void {
    const before = this.count.get(peer) ?? 0
    this.move(peer, before, before + 1)
    if (before + 1 > this.max) this.max = before + 1
  }

  decrement(peer: string): void {
    const before = this.count.get(peer) ?? 0
    if (before === 0) return
    this.move(peer, before, before - 1)
    // the peer that left the top bucket is in the one below it (or gone, at 0)
    if (before === this.max && (this.buckets.get(before)?.size ?? 0) === 0) this.max = before - 1
  }

  /** The peer holding the most (the one that got there first, among equals). */
  largest(): string | undefined {
    const top = this.buckets.get(this.max)
    return top?.values().next().value
  }

  private move(peer: string, from: number, to: number): void {
    if (from > 0) {
      const bucket = this.buckets.get(from)
      bucket?.delete(peer)
      if (bucket?.size === 0) this.buckets.delete(from)
    }
    if (to > 0) {
      let bucket = this.buckets.get(to)
      if (bucket === undefined) {
        bucket = new Set()
        this.buckets.set(to, bucket)
      }
      bucket.add(peer)
      this.count.set(peer, to)
    } else {
      this.count.delete(peer)
    }
  }
}

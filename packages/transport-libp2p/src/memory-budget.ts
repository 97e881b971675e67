/** The limits of a `MemoryBudget`. */
export interface MemoryBudgetLimits {
  /** Bytes buffered over all peers, at most. */
  maxBytes: number
  /** Bytes one peer may have buffered over all its streams, at most. */
  maxBytesPerPeer: number
}

/** What a `MemoryBudget` holds now and held at most. */
export interface BudgetUsage {
  /** Bytes buffered now, over all peers and streams. */
  bufferedBytes: number
  /** The most bytes buffered at once since the receiver was created. */
  peakBufferedBytes: number
  /** The most bytes one peer had buffered at once. */
  peakPeerBufferedBytes: number
  /** Peers with bytes buffered now. */
  bufferingPeers: number
}

/**
 * The bytes a receiver buffers, over all peers and both modes, with a share
 * per peer. Every stream holds a `BudgetAccount` and sets on it what it holds
 * (partial frames, a raw message being read, payloads waiting for their
 * handler); growing fails, changing nothing, when it would pass either
 * limit, and the stream then refuses what it was about to keep.
 */
export class MemoryBudget {
  private used = 0
  private peak = 0
  private peakPeer = 0
  private readonly byPeer = new Map<string, number>()

  constructor(readonly limits: MemoryBudgetLimits) {}

  /** A fresh account of one stream of `peer`, holding nothing. */
  account(peer: string): BudgetAccount {
    return new BudgetAccount(this, peer)
  }

  /** Whether `peer` may buffer `extra` more bytes now. */
  fits(peer: string, extra: number): boolean {
    if (extra <= 0) return true
    return (
      this.used + extra <= this.limits.maxBytes &&
      (this.byPeer.get(peer) ?? 0) + extra <= this.limits.maxBytesPerPeer
    )
  }

  usage(): BudgetUsage {
    return {
      bufferedBytes: this.used,
      peakBufferedBytes: this.peak,
      peakPeerBufferedBytes: this.peakPeer,
      bufferingPeers: this.byPeer.size
    }
  }

  /** Adds `delta` (which may be negative) to `peer`; a growth over a limit is refused. */
  change(peer: string, delta: number): boolean {
    if (delta > 0 && !this.fits(peer, delta)) return false
    const held = (this.byPeer.get(peer) ?? 0) + delta
    if (held > 0) this.byPeer.set(peer, held)
    else this.byPeer.delete(peer)
    this.used += delta
    if (this.used > this.peak) this.peak = this.used
    if (held > this.peakPeer) this.peakPeer = held
    return true
  }
}

/** What one stream holds of a `MemoryBudget`. */
export class BudgetAccount {
  private heldBytes = 0
  private closed = false

  constructor(
    private readonly budget: MemoryBudget,
    readonly peer: string
  ) {}

  /** The budget's limits (for messages). */
  get limits(): MemoryBudgetLimits {
    return this.budget.limits
  }

  /** Bytes this stream holds now. */
  get held(): number {
    return this.heldBytes
  }

  /** Whether this stream may hold `extra` more bytes now. */
  fits(extra: number): boolean {
    return !this.closed && this.budget.fits(this.peer, extra)
  }

  /** Sets what this stream holds; false (nothing changed) when growing would pass a limit. */
  resize(bytes: number): boolean {
    if (this.closed) return bytes === 0
    if (!this.budget.change(this.peer, bytes - this.heldBytes)) return false
    this.heldBytes = bytes
    return true
  }

  /** Gives back everything; the account holds nothing from now on. */
  release(): void {
    this.resize(0)
    this.closed = true
  }
}

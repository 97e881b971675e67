/** Streams each remote peer has open, against a limit per peer. */
export class PeerSlots {
  private readonly open = new Map<string, number>()

  constructor(readonly limit: number) {}

  /** Streams `peer` has open now. */
  of(peer: string): number {
    return this.open.get(peer) ?? 0
  }

  /** Takes a slot for a new stream of `peer`; false when it already has `limit` open. */
  take(peer: string): boolean {
    const open = this.of(peer)
    if (open >= this.limit) return false
    this.open.set(peer, open + 1)
    return true
  }

  /** Gives back the slot of a stream of `peer` that ended. */
  give(peer: string): void {
    const left = this.of(peer) - 1
    if (left > 0) this.open.set(peer, left)
    else this.open.delete(peer)
  }
}

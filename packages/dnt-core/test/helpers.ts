import { DeliveryRejectedError, type Entry, PeerUnreachableError, type Transport } from '../src/index.js'

export type PeerMode = 'up' | 'down' | 'reject' | 'hang'

/** A transport in memory whose peers are switched up, down, rejecting or hanging by the test. */
export class FakeTransport implements Transport {
  readonly modes = new Map<string, PeerMode>()
  /** Every deliver call, in order: [peer, entry id, outcome]. */
  readonly calls: Array<{ peer: string; id: string; outcome: PeerMode }> = []
  /** Payload ids delivered, per peer, in order. */
  readonly delivered = new Map<string, string[]>()
  private readonly listeners = new Set<(peer: string) => void>()
  private readonly hanging: Array<() => void> = []

  set(peer: string, mode: PeerMode): void {
    this.modes.set(peer, mode)
  }

  /** Switches a peer up and tells listeners, as a transport does on connect. */
  connect(peer: string): void {
    this.modes.set(peer, 'up')
    for (const listener of this.listeners) listener(peer)
  }

  /** Lets every hanging delivery fail. */
  releaseHanging(): void {
    for (const release of this.hanging.splice(0)) release()
  }

  attemptsTo(peer: string): number {
    return this.calls.filter((call) => call.peer === peer).length
  }

  deliveredTo(peer: string): string[] {
    return this.delivered.get(peer) ?? []
  }

  async deliver(entry: Entry, options: { signal: AbortSignal }): Promise<void> {
    const mode = this.modes.get(entry.peer) ?? 'down'
    this.calls.push({ peer: entry.peer, id: entry.id, outcome: mode })
    await Promise.resolve()
    if (mode === 'down') throw new PeerUnreachableError(`dial to ${entry.peer} refused`)
    if (mode === 'reject') throw new DeliveryRejectedError('handler refused', { reason: 'test' })
    if (mode === 'hang') {
      await new Promise<void>((resolve, reject) => {
        this.hanging.push(() => reject(new PeerUnreachableError('released')))
        options.signal.addEventListener('abort', () => reject(options.signal.reason), { once: true })
      })
    }
    const list = this.delivered.get(entry.peer) ?? []
    list.push(entry.id)
    this.delivered.set(entry.peer, list)
  }

  onReachable(listener: (peer: string) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

export const PEER_A = '12D3KooWPeerA'
export const PEER_B = '12D3KooWPeerB'

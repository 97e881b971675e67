/**
 * A 53-bit fingerprint of one message (peer, protocol, payload bytes), for
 * recognising a resent id after its entry is gone (cyrb53: two 32-bit
 * multiply-xorshift lanes). Not cryptographic: the sender is the local
 * application, and two different payloads sent under the same id collide
 * with a probability of about 2^-53.
 */
export function messageFingerprint(peer: string, protocol: string, payload: Uint8Array): number {
  let h1 = 0xdeadbeef ^ payload.byteLength
  let h2 = 0x41c6ce57 ^ payload.byteLength
  const mix = (value: number): void => {
    h1 = Math.imul(h1 ^ value, 2654435761)
    h2 = Math.imul(h2 ^ value, 1597334677)
  }
  for (let index = 0; index < peer.length; index++) mix(peer.charCodeAt(index))
  mix(0x1f)
  for (let index = 0; index < protocol.length; index++) mix(protocol.charCodeAt(index))
  mix(0x1e)
  for (let index = 0; index < payload.byteLength; index++) mix(payload[index] as number)
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return 4294967296 * (2097151 & h2) + (h1 >>> 0)
}

/**
 * The ids delivered most recently (at most `capacity`, oldest forgotten
 * first), each with its message's fingerprint, so that sending a delivered id
 * again is answered `delivered` instead of delivering it twice. Memory only:
 * after a restart, receiver-side dedupe (envelope mode) is what catches a resend.
 */
export class RecentDeliveries {
  private readonly fingerprints = new Map<string, number>()

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.fingerprints.size
  }

  remember(id: string, fingerprint: number): void {
    if (this.capacity <= 0) return
    this.fingerprints.delete(id)
    this.fingerprints.set(id, fingerprint)
    if (this.fingerprints.size > this.capacity) {
      const oldest = this.fingerprints.keys().next().value
      if (oldest !== undefined) this.fingerprints.delete(oldest)
    }
  }

  /** The fingerprint the id was delivered with, if it is remembered. */
  get(id: string): number | undefined {
    return this.fingerprints.get(id)
  }

  forget(id: string): void {
    this.fingerprints.delete(id)
  }

  clear(): void {
    this.fingerprints.clear()
  }
}

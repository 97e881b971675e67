import type { DeliveryReceipt, DntError, Entry } from '@dntkit/core'
import type { DeliveryContext } from './error-mapping.js'

/** One `deliver()` call of envelope mode, from the call until its ack (or failure). */
export interface PendingFrame {
  entry: Entry
  signal: AbortSignal
  /** Encoded size once written; an estimate before. */
  size: number
  /** Its sequence number on the stream it was last written to (-1: not written yet). */
  sequence: number
  settled: boolean
  resolve(receipt: DeliveryReceipt): void
  reject(error: DntError): void
  onAbort(): void
}

/** What the error messages of `frame` name. */
export function contextOf(frame: PendingFrame): DeliveryContext {
  const { entry } = frame
  return { peer: entry.peer, protocol: entry.protocol, id: entry.id, addrs: entry.addrs }
}

/**
 * Resolves (no error: with the receiver's reply, if it gave one) or rejects
 * the `deliver()` call of `frame`, once.
 */
export function settleFrame(frame: PendingFrame, error?: DntError, reply?: Uint8Array): void {
  if (frame.settled) return
  frame.settled = true
  frame.signal.removeEventListener('abort', frame.onAbort)
  if (error == null) frame.resolve(reply === undefined ? {} : { reply })
  else frame.reject(error)
}

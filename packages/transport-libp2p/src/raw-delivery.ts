import type { Connection, Stream } from '@libp2p/interface'

/**
 * When a raw delivery counts as done:
 * - `remote-closed`: the remote ended its side cleanly after reading (a reset
 *   or abort is a failure);
 * - `written`: the payload was written and our side closed without error (the
 *   Go original's semantics), for handlers that never close their side.
 */
export type RawSuccess = 'remote-closed' | 'written'

/**
 * Writes `payload` to a freshly opened protocol stream, half-closes it and, in
 * `remote-closed` mode, reads (and discards) until the remote ends its side.
 * Throws when the stream is reset or aborted, when its connection is no
 * longer open at the end (a reset connection ends the stream as if it had
 * closed cleanly), or when `signal` aborts (the stream is then aborted too).
 */
export async function writeRaw(
  stream: Stream,
  payload: Uint8Array,
  success: RawSuccess,
  signal: AbortSignal,
  connection?: Pick<Connection, 'status'>
): Promise<void> {
  const onAbort = (): void => {
    stream.abort(signal.reason instanceof Error ? signal.reason : new Error('delivery aborted'))
  }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    // no signal handed down: `onAbort` aborts the stream, which ends each of these
    if (payload.byteLength > 0 && !stream.send(payload)) await stream.onDrain()
    await stream.close()
    if (success === 'written') {
      // nothing more is read: drop whatever the remote might send
      await stream.closeRead()
    } else {
      for await (const _chunk of stream) {
        // a raw handler's answer, if any, is not ours to interpret
      }
    }
    signal.throwIfAborted()
    if (stream.status === 'reset' || stream.status === 'aborted') {
      throw new Error(`stream was ${stream.status} before the remote closed it cleanly`)
    }
    // a connection reset ends the stream's read loop as if the remote had closed it
    if (connection !== undefined && connection.status !== 'open') {
      throw new Error(`connection was ${connection.status} before the delivery was confirmed`)
    }
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)))
    throw error
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

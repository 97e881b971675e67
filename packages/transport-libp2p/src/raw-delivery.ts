import type { Connection, Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'

/**
 * When a raw delivery counts as done:
 * - `remote-closed`: the remote ended its side cleanly after reading (a reset
 *   or abort is a failure);
 * - `written`: the payload was written and our side closed without error (the
 *   Go original's semantics), for handlers that never close their side.
 */
export type RawSuccess = 'remote-closed' | 'written'

/**
 * Writes `payload` to a freshly opened protocol stream and half-closes it.
 * In `remote-closed` mode it then reads until the remote ends its side: what
 * the remote wrote meanwhile, at least one byte and at most `maxReplyBytes`,
 * is the reply it resolves with (more resets the stream and throws). Raw mode
 * cannot tell an empty reply from none: no byte, no reply. In `written` mode
 * nothing is read (the Go original's semantics).
 *
 * Throws when the stream is reset or aborted, when its connection is no
 * longer open at the end (a reset connection ends the stream as if it had
 * closed cleanly), or when `signal` aborts (the stream is then aborted too).
 */
export async function writeRaw(
  stream: Stream,
  payload: Uint8Array,
  success: RawSuccess,
  signal: AbortSignal,
  connection?: Pick<Connection, 'status'>,
  maxReplyBytes = 0
): Promise<Uint8Array | undefined> {
  const onAbort = (): void => {
    stream.abort(signal.reason instanceof Error ? signal.reason : new Error('delivery aborted'))
  }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    // no signal handed down: `onAbort` aborts the stream, which ends each of these
    if (payload.byteLength > 0 && !stream.send(payload)) await stream.onDrain()
    await stream.close()
    const reply = new Uint8ArrayList()
    if (success === 'written') {
      // nothing more is read: drop whatever the remote might send
      await stream.closeRead()
    } else {
      for await (const chunk of stream) {
        if (reply.byteLength + chunk.byteLength > maxReplyBytes) {
          throw new Error(
            `the remote's reply passes ${maxReplyBytes} bytes, the most this sender accepts (maxReplyBytes)`
          )
        }
        reply.append(chunk)
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
    if (reply.byteLength === 0) return undefined
    // one plain copy of our own: chunks may be views of network buffers
    const bytes = new Uint8Array(reply.byteLength)
    let offset = 0
    for (const chunk of reply) {
      bytes.set(chunk, offset)
      offset += chunk.byteLength
    }
    return bytes
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)))
    throw error
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

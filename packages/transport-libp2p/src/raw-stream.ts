import type { Connection, Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import type { StreamErrorReason } from './receiver-stats.js'
import type { RawStreamContext } from './stream-context.js'
import { closeWithin, StreamTimer } from './stream-timer.js'

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

/**
 * Serves one inbound raw stream: reads it to its clean end within
 * `maxMessageBytes`, the memory budget (each chunk is charged before it is
 * kept) and `idleTimeout` for the whole message, hands the payload to the
 * handler, writes the bytes it returned (its reply, at most
 * `maxReplyBytes`) and closes its side once the handler resolved (the
 * sender's `remote-closed` point of success). A stream over a limit, ended
 * uncleanly, or whose handler throws or replies too much is reset; nothing
 * here throws into libp2p.
 */
export class InboundRawStream {
  private readonly chunks = new Uint8ArrayList()
  private readonly deadline: StreamTimer
  /** Reading ended: the stream failed, or the handler was called. */
  private finished = false
  private reading = true

  constructor(
    private readonly stream: Stream,
    private readonly connection: Connection,
    private readonly protocol: string,
    private readonly context: RawStreamContext
  ) {
    const { clock, limits } = context
    this.deadline = new StreamTimer(clock, limits.idleTimeout, () => {
      const from = connection.remotePeer.toString()
      const error = new Error(`raw stream from ${from} did not end within ${limits.idleTimeout} ms`)
      this.fail('idle', error)
    })
  }

  async run(): Promise<void> {
    try {
      const payload = await this.read()
      if (payload !== undefined) await this.deliver(payload)
    } finally {
      this.deadline.disarm()
      this.context.account.release()
    }
  }

  /**
   * Resets the stream whatever it is doing (the receiver's stop ran out of
   * time): its sender retries the message; a handler still running
   * finishes on its own.
   */
  reset(error: Error): void {
    if (this.stream.status !== 'open') return
    this.finished = true
    this.context.streamError('stopped', error)
    this.stream.abort(error)
  }

  /** Resets the stream if it is still being read (the receiver is stopping); a running handler finishes. */
  stop(): void {
    if (this.reading && !this.finished) {
      this.finished = true
      this.stream.abort(new Error('the receiver is stopping'))
    }
  }

  private async read(): Promise<Uint8Array | undefined> {
    const { limits, account } = this.context
    const from = this.connection.remotePeer.toString()
    this.deadline.arm()
    try {
      for await (const chunk of this.stream) {
        if (this.finished) break
        const size = this.chunks.byteLength + chunk.byteLength
        if (size > limits.maxMessageBytes) {
          const error = new Error(`raw message from ${from} passes ${limits.maxMessageBytes} bytes`)
          return this.fail('too-large', error)
        }
        if (!account.resize(size)) {
          const { maxBytes, maxBytesPerPeer } = account.limits
          const error = new Error(
            `raw message from ${from} would buffer ${size} bytes, over the peer's share of ${maxBytesPerPeer} or the receiver's budget of ${maxBytes}`
          )
          return this.fail('over-budget', error)
        }
        this.chunks.append(chunk)
      }
    } catch (error) {
      return this.fail('reset', asError(error), false)
    } finally {
      this.reading = false
      this.deadline.disarm()
    }
    if (this.finished) return undefined
    // a reset or a killed sender also ends the read loop: only a clean close is a message
    if (
      this.stream.status !== 'open' ||
      this.stream.remoteWriteStatus !== 'closed' ||
      this.connection.status !== 'open'
    ) {
      return this.fail('reset', new Error(`raw stream from ${from} ended without a clean close`))
    }
    this.finished = true
    // one copy of our own: chunks may be views of network buffers
    const payload = this.chunks.slice()
    this.chunks.consume(this.chunks.byteLength)
    return payload
  }

  private async deliver(payload: Uint8Array): Promise<void> {
    const from = this.connection.remotePeer.toString()
    let result: unknown
    try {
      result = await this.context.handler({ protocol: this.protocol, payload }, from)
    } catch (error) {
      this.context.streamError('handler-error', asError(error))
      this.stream.abort(asError(error))
      return
    }
    const { maxReplyBytes } = this.context.limits
    if (result instanceof Uint8Array && result.byteLength > maxReplyBytes) {
      const error = new Error(
        `the handler's reply of ${result.byteLength} bytes to ${from} is over maxReplyBytes (${maxReplyBytes})`
      )
      this.context.streamError('reply-too-large', error)
      this.stream.abort(error)
      return
    }
    this.context.handled()
    // the reply goes before our side closes: a sender in remote-closed mode reads it to that end
    if (result instanceof Uint8Array && result.byteLength > 0 && this.stream.status === 'open') {
      try {
        this.stream.send(result)
      } catch (error) {
        this.context.streamError('reset', asError(error))
        this.stream.abort(asError(error))
        return
      }
    }
    // closing our side cleanly is what tells a raw sender the message arrived
    await closeWithin(this.stream, this.context.clock, this.context.limits.idleTimeout)
  }

  /** Resets the stream (unless it already ended) and reports why. */
  private fail(reason: StreamErrorReason, error: Error, abort = true): undefined {
    if (this.finished) return undefined
    this.finished = true
    this.deadline.disarm()
    this.chunks.consume(this.chunks.byteLength)
    this.context.streamError(reason, error)
    if (abort) this.stream.abort(error)
    return undefined
  }
}

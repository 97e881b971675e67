import {
  type DeliveryReceipt,
  type Entry,
  type Logger,
  systemClock,
  type TimerHandle
} from '@dntkit/core'
import type { PeerId } from '@libp2p/interface'
import type { AckFrame } from './envelope-codec.js'
import { EnvelopeStream } from './envelope-stream.js'
import { abortedError, ackError, mapDeliveryError, mapStreamError } from './error-mapping.js'
import type { Host } from './host.js'
import { contextOf, type PendingFrame, settleFrame } from './pending-frame.js'

export interface SessionOptions {
  protocol: string
  maxFramesInFlight: number
  maxBytesInFlight: number
  /** Largest reply an ack may carry; a larger one resets the stream. */
  maxReplyBytes: number
  /** ms an idle stream stays open for the next message. */
  linger: number
  log: Logger
}

/**
 * Refusals after which a receiver may read nothing more of the stream: it
 * stops reading a peer that is not on its allowlist, and a frame refused from
 * its length prefix. Frames written after such a refusal may never have been
 * read: they are written again on a fresh stream.
 */
const STREAM_ENDING_REFUSALS = new Set(['unauthorized', 'too-large'])

/**
 * The envelope deliveries to one peer. Concurrent `send()` calls are written
 * in call order, pipelined on one stream (several frames in flight, written
 * together when they arrive in the same tick), and each settles with its own
 * ack:
 *
 * - a frame in flight when the stream breaks fails on its own
 *   (`DeliveryFailedError`, reason `reset`); frames not yet written go on a
 *   fresh stream, so a failure costs only the messages it hit;
 * - after a refusal that may end the receiver's reading (`unauthorized`,
 *   `too-large`), nothing more is written on that stream: once its frames in
 *   flight are answered a fresh stream takes the next ones, and frames the
 *   receiver never answered are written again there. So every message to a
 *   receiver that refuses this sender gets its own refusal.
 *
 * A stream is used by one frame window at a time, so the order of `send()`
 * calls is the order the receiver reads them. The session ends after
 * `linger` ms without anything to do, or when a stream cannot be opened;
 * `onClosed` then lets a new session serve the next send.
 */
export class EnvelopeSession {
  private state: 'opening' | 'open' | 'closed' = 'opening'
  private current: EnvelopeStream | undefined
  private readonly waiting: PendingFrame[] = []
  private opening: AbortController | undefined
  /** The sequence of the current stream after which its receiver may read nothing more. */
  private readsUpTo: number | undefined
  private lingerTimer: TimerHandle | undefined
  /** Why the session was closed by its owner (frames still pending fail with it). */
  private closedBecause: Error | undefined

  constructor(
    private readonly peerId: PeerId,
    private readonly host: Host,
    private readonly options: SessionOptions,
    private readonly onClosed: (session: EnvelopeSession) => void
  ) {
    void this.open()
  }

  get closed(): boolean {
    return this.state === 'closed'
  }

  /** Resolves once acked `ok` or `duplicate`, with the receiver's reply when the ack carried one. */
  send(entry: Entry, signal: AbortSignal): Promise<DeliveryReceipt> {
    return new Promise<DeliveryReceipt>((resolve, reject) => {
      const frame: PendingFrame = {
        entry,
        signal,
        size: entry.payload.byteLength + entry.id.length + entry.protocol.length + 16,
        sequence: -1,
        settled: false,
        resolve,
        reject,
        onAbort: () => this.abandon(frame)
      }
      signal.addEventListener('abort', frame.onAbort, { once: true })
      this.waiting.push(frame)
      this.cancelLinger()
      this.current?.schedulePump()
    })
  }

  /**
   * Fails everything pending with `PeerUnreachableError` and closes the
   * stream; resolves once the receiver closed its side too (or after `wait` ms,
   * when the stream is reset).
   */
  async close(reason = 'transport closed', wait = 1_000): Promise<void> {
    if (this.state === 'closed') return
    const error = new Error(reason)
    this.closedBecause = error
    this.finish()
    for (const frame of this.waiting.splice(0)) this.failClosed(frame)
    await this.current?.shutdown(error, wait)
  }

  /** Opens a stream (a connection first, when there is none) and starts writing what waits. */
  private async open(): Promise<void> {
    this.state = 'opening'
    this.current = undefined
    this.readsUpTo = undefined
    const opening = new AbortController()
    this.opening = opening
    let dialled = false
    try {
      const { signal } = opening
      const connection = await this.host.connect(this.peerId, { signal })
      dialled = true
      const stream = await connection.newStream(this.options.protocol, { signal })
      if (this.closed) {
        stream.abort(new Error('the envelope session closed while its stream opened'))
        return
      }
      this.state = 'open'
      const current: EnvelopeStream = new EnvelopeStream(stream, this.waiting, this.options, {
        answered: (frame, ack) => this.answered(frame, ack),
        ended: (unanswered, why) => this.ended(current, unanswered, why),
        badAck: (error) => this.options.log.error('bad ack from %s: %s', this.peerId, error.message)
      })
      this.current = current
      current.schedulePump()
      this.maybeLinger()
    } catch (error) {
      if (this.closed) return
      // every frame waiting then gave up; any sent since gets a fresh try
      if (opening.signal.aborted && this.waiting.length > 0) return this.open()
      // no connection: the peer is unreachable; a connection but no stream: this message failed
      const mapped = dialled ? mapStreamError : mapDeliveryError
      for (const frame of this.waiting.splice(0))
        settleFrame(frame, mapped(error, contextOf(frame)))
      this.finish()
    }
  }

  private answered(frame: PendingFrame, ack: AckFrame): void {
    settleFrame(frame, ackError(ack, contextOf(frame)), ack.reply)
    if (ack.status === 'rejected' && STREAM_ENDING_REFUSALS.has(ack.code ?? '')) {
      this.readsUpTo = Math.min(this.readsUpTo ?? Number.POSITIVE_INFINITY, frame.sequence)
      this.current?.retire()
    }
    this.maybeLinger()
  }

  private ended(stream: EnvelopeStream, unanswered: PendingFrame[], why: Error | undefined): void {
    if (this.current !== stream) return
    this.current = undefined
    if (this.state === 'closed') {
      for (const frame of unanswered) this.failClosed(frame)
      return
    }
    const again: PendingFrame[] = []
    const cause = why ?? new Error('the envelope stream ended before its ack')
    for (const frame of unanswered) {
      if (frame.settled) continue
      if (this.readsUpTo !== undefined && frame.sequence > this.readsUpTo) again.push(frame)
      else settleFrame(frame, mapStreamError(cause, contextOf(frame)))
    }
    this.waiting.unshift(...again)
    if (this.waiting.length > 0) void this.open()
    else this.finish()
  }

  /** The signal of one send aborted. */
  private abandon(frame: PendingFrame): void {
    if (frame.settled) return
    settleFrame(frame, abortedError(frame.signal, contextOf(frame)))
    const index = this.waiting.indexOf(frame)
    if (index >= 0) {
      this.waiting.splice(index, 1)
      if (this.state === 'opening' && this.waiting.length === 0)
        this.opening?.abort(frame.signal.reason)
      this.maybeLinger()
      return
    }
    // written and unanswered: the receiver is stuck on it; what waits goes on a fresh stream
    this.current?.abort(
      new Error(`no ack for message ${frame.entry.id} before its attempt was aborted`)
    )
  }

  private failClosed(frame: PendingFrame): void {
    const error = this.closedBecause ?? new Error('the envelope session closed')
    settleFrame(frame, mapDeliveryError(error, contextOf(frame)))
  }

  /** The session is done: a new one serves the next send. */
  private finish(): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.cancelLinger()
    this.opening?.abort(new Error('the envelope session closed'))
    this.onClosed(this)
  }

  private maybeLinger(): void {
    if (this.state !== 'open' || this.lingerTimer != null) return
    if (this.waiting.length > 0 || (this.current?.unanswered ?? 0) > 0) return
    this.lingerTimer = systemClock.setTimeout(() => {
      this.lingerTimer = undefined
      if (this.waiting.length === 0 && (this.current?.unanswered ?? 0) === 0) this.current?.retire()
    }, this.options.linger)
  }

  private cancelLinger(): void {
    if (this.lingerTimer == null) return
    systemClock.clearTimeout(this.lingerTimer)
    this.lingerTimer = undefined
  }
}

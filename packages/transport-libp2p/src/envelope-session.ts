import {
  DeliveryRejectedError,
  type DntError,
  type Entry,
  type Logger,
  PeerUnreachableError,
  systemClock,
  type TimerHandle
} from '@dntkit/core'
import type { PeerId, Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { MAX_ACK_BYTES } from './constants.js'
import { type AckFrame, decodeAck, encodeMessageFrame, FrameError } from './envelope-codec.js'
import { abortedError, type DeliveryContext, mapDeliveryError } from './error-mapping.js'
import { FrameDecoder } from './frame-decoder.js'
import type { Host } from './host.js'

export interface SessionOptions {
  protocol: string
  maxFramesInFlight: number
  maxBytesInFlight: number
  /** ms an idle stream stays open for the next message. */
  linger: number
  log: Logger
}

interface PendingFrame {
  entry: Entry
  signal: AbortSignal
  /** Encoded size once written; an estimate before. */
  size: number
  sequence: number
  settled: boolean
  resolve(): void
  reject(error: DntError): void
  onAbort(): void
}

const context = (entry: Entry): DeliveryContext => ({
  peer: entry.peer,
  protocol: entry.protocol,
  id: entry.id,
  addrs: entry.addrs
})

/**
 * One envelope stream to one peer. Concurrent `send()` calls are written in
 * call order, pipelined (several frames in flight, written together when they
 * arrive in the same tick) and each resolves or rejects when its ack arrives.
 * The stream opens with the first send and closes after `linger` ms without
 * anything to do; once closed, the session is discarded (`onClosed`) and a new
 * one serves the next send.
 */
export class EnvelopeSession {
  private state: 'opening' | 'open' | 'closed' = 'opening'
  private stream: Stream | undefined
  private readonly waiting: PendingFrame[] = []
  private readonly inFlight = new Map<number, PendingFrame>()
  private bytesInFlight = 0
  private nextSequence = 0
  private pumpScheduled = false
  private awaitingDrain = false
  private lingerTimer: TimerHandle | undefined
  private readonly opening = new AbortController()

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

  send(entry: Entry, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
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
      this.schedulePump()
    })
  }

  /**
   * Fails everything pending with `PeerUnreachableError` and closes the
   * stream; resolves once the receiver closed its side too (or after `wait` ms,
   * when the stream is aborted).
   */
  async close(reason = 'transport closed', wait = 1_000): Promise<void> {
    this.fail(new Error(reason))
    const stream = this.stream
    if (stream == null || stream.status !== 'open') return
    await new Promise<void>((resolve) => {
      const timer = systemClock.setTimeout(() => {
        stream.abort(new Error(reason))
        resolve()
      }, wait)
      stream.addEventListener(
        'close',
        () => {
          systemClock.clearTimeout(timer)
          resolve()
        },
        { once: true }
      )
    })
  }

  private async open(): Promise<void> {
    try {
      const stream = await this.host.openStream(this.peerId, this.options.protocol, {
        signal: this.opening.signal
      })
      if (this.state === 'closed') {
        stream.abort(new Error('envelope session closed while its stream opened'))
        return
      }
      this.stream = stream
      this.state = 'open'
      void this.readAcks(stream)
      this.schedulePump()
    } catch (error) {
      this.fail(error)
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.state !== 'open') return
    this.pumpScheduled = true
    queueMicrotask(() => {
      this.pumpScheduled = false
      this.pump()
    })
  }

  /** Writes waiting frames while the in-flight window allows, as one send. */
  private pump(): void {
    const stream = this.stream
    if (this.state !== 'open' || this.awaitingDrain || stream == null) return
    const batch = new Uint8ArrayList()
    while (this.waiting.length > 0) {
      const frame = this.waiting[0] as PendingFrame
      const full =
        this.inFlight.size >= this.options.maxFramesInFlight ||
        this.bytesInFlight + frame.size > this.options.maxBytesInFlight
      if (this.inFlight.size > 0 && full) break
      this.waiting.shift()
      frame.sequence = this.nextSequence++
      const { entry } = frame
      const bytes = encodeMessageFrame({
        sequence: frame.sequence,
        id: entry.id,
        protocol: entry.protocol,
        ...(entry.meta == null ? {} : { meta: entry.meta }),
        payload: entry.payload
      })
      frame.size = bytes.byteLength
      this.inFlight.set(frame.sequence, frame)
      this.bytesInFlight += frame.size
      batch.append(bytes)
    }
    if (batch.byteLength === 0) return
    try {
      if (stream.send(batch)) return
    } catch (error) {
      this.fail(error)
      return
    }
    this.awaitingDrain = true
    stream.onDrain().then(
      () => {
        this.awaitingDrain = false
        this.pump()
      },
      (error: unknown) => this.fail(error)
    )
  }

  private async readAcks(stream: Stream): Promise<void> {
    const decoder = new FrameDecoder(MAX_ACK_BYTES)
    try {
      for await (const chunk of stream) {
        for (const body of decoder.push(chunk)) this.onAck(decodeAck(body))
      }
      if (stream.status === 'reset' || stream.status === 'aborted') {
        throw new Error(`envelope stream was ${stream.status}`)
      }
      this.fail(new Error('the receiver closed the envelope stream'))
    } catch (error) {
      if (error instanceof FrameError)
        this.options.log.error('bad ack from %s: %s', this.peerId, error.message)
      this.fail(error)
    }
  }

  private onAck(ack: AckFrame): void {
    const frame = this.inFlight.get(ack.sequence)
    if (frame == null) {
      if (ack.sequence >= this.nextSequence)
        throw new FrameError(`ack for frame ${ack.sequence}, never sent`)
      return // answers a frame whose delivery was given up
    }
    this.inFlight.delete(ack.sequence)
    this.bytesInFlight -= frame.size
    const where = `message ${frame.entry.id} to ${frame.entry.peer} (${frame.entry.protocol})`
    const why = `${ack.code ?? ''}${ack.reason ? `: ${ack.reason}` : ''}`
    if (ack.status === 'rejected') {
      this.settle(
        frame,
        new DeliveryRejectedError(`receiver rejected ${where}: ${why}`, {
          reason: ack.code ?? 'rejected'
        })
      )
    } else if (ack.status === 'try-later') {
      this.settle(frame, new PeerUnreachableError(`receiver asked to retry ${where} later: ${why}`))
    } else {
      this.settle(frame)
    }
    this.schedulePump()
    this.maybeLinger()
  }

  /** The signal of one send aborted. */
  private abandon(frame: PendingFrame): void {
    if (frame.settled) return
    const error = abortedError(frame.signal, context(frame.entry))
    const index = this.waiting.indexOf(frame)
    if (index >= 0) {
      this.waiting.splice(index, 1)
      this.settle(frame, error)
      if (this.state === 'opening' && this.waiting.length === 0)
        this.opening.abort(frame.signal.reason)
      this.maybeLinger()
      return
    }
    // written and unanswered: the receiver is stuck, a fresh stream serves the retries
    this.settle(frame, error)
    this.fail(new Error(`no ack for message ${frame.entry.id} before its attempt was aborted`))
  }

  private fail(error: unknown): void {
    if (this.state === 'closed') return
    const pending = [...this.inFlight.values(), ...this.waiting]
    this.state = 'closed'
    this.cancelLinger()
    this.inFlight.clear()
    this.waiting.length = 0
    this.onClosed(this)
    this.opening.abort(error)
    if (pending.length > 0) {
      this.stream?.abort(error instanceof Error ? error : new Error(String(error)))
    } else {
      this.stream?.close().catch((closeError: unknown) => {
        this.stream?.abort(closeError as Error)
      })
    }
    for (const frame of pending) this.settle(frame, mapDeliveryError(error, context(frame.entry)))
  }

  private settle(frame: PendingFrame, error?: DntError): void {
    if (frame.settled) return
    frame.settled = true
    frame.signal.removeEventListener('abort', frame.onAbort)
    if (error == null) frame.resolve()
    else frame.reject(error)
  }

  private maybeLinger(): void {
    if (this.state === 'closed' || this.lingerTimer != null) return
    if (this.waiting.length > 0 || this.inFlight.size > 0) return
    this.lingerTimer = systemClock.setTimeout(() => {
      this.lingerTimer = undefined
      if (this.waiting.length === 0 && this.inFlight.size === 0)
        this.fail(new Error('envelope stream idle'))
    }, this.options.linger)
  }

  private cancelLinger(): void {
    if (this.lingerTimer == null) return
    systemClock.clearTimeout(this.lingerTimer)
    this.lingerTimer = undefined
  }
}

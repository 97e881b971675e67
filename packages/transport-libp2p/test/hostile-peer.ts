import type { Logger, LoggerFactory, Meta } from '@dntkit/core'
import { testEntry } from '@dntkit/core/testing'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { type AckFrame, decodeAck, encodeMessageFrame } from '../src/envelope-codec.js'
import { FrameDecoder } from '../src/frame-decoder.js'
import {
  type DntReceiverInit,
  ENVELOPE_PROTOCOL,
  type EnvelopeHandle,
  type EnvelopeMessage,
  handleEnvelopes,
  handleMessages,
  type Libp2pTransportInit,
  libp2pTransport,
  type RawMessage
} from '../src/index.js'
import { addrsOf, createNode, waitFor } from './nodes.js'

/** The inner protocols the test receivers serve. */
export const GOOD = '/dntkit-test/good/1.0.0'
export const OTHER = '/dntkit-test/other/1.0.0'

/** A message frame as bytes on the wire (length prefix included). */
export function frame(
  sequence: number,
  id: string,
  protocol = GOOD,
  payload: Uint8Array = new Uint8Array(8),
  meta?: Meta
): Uint8Array {
  return encodeMessageFrame({ sequence, id, protocol, payload, ...(meta ? { meta } : {}) }).slice()
}

/**
 * The length prefix and header of a frame that declares `payloadBytes` of
 * payload, without any of it: a receiver that answers this frame did so
 * without reading (or waiting for) its payload.
 */
export function headerOnly(
  sequence: number,
  id: string,
  protocol: string,
  payloadBytes: number,
  meta?: Meta
): Uint8Array {
  const whole = encodeMessageFrame({
    sequence,
    id,
    protocol,
    payload: new Uint8Array(payloadBytes),
    ...(meta ? { meta } : {})
  })
  return whole.slice(0, whole.byteLength - payloadBytes)
}

/** An envelope stream driven by hand: bytes the transport would never send. */
export interface HostileStream {
  stream: Stream
  /** Acks received so far. */
  acks: AckFrame[]
  /** Settles when the receiver ended the stream, cleanly or by a reset. */
  ended: Promise<void>
  /** Whether the receiver reset (rather than closed) the stream. */
  reset(): boolean
  /** Writes `bytes`; false when the receiver already ended the stream. */
  send(bytes: Uint8Array): boolean
  /** Resolves once `count` acks arrived. */
  waitForAcks(count: number, timeout?: number): Promise<AckFrame[]>
}

/** Opens an envelope stream from `from` to `to` over TCP on 127.0.0.1 and reads its acks. */
export async function hostileStream(
  from: Libp2p,
  to: Libp2p,
  options: { read?: boolean } = {}
): Promise<HostileStream> {
  const stream: Stream = await from.dialProtocol(
    multiaddr(`${addrsOf(to)[0]}/p2p/${to.peerId}`),
    ENVELOPE_PROTOCOL
  )
  const acks: AckFrame[] = []
  let wasReset = false
  const decoder = new FrameDecoder(64 * 1024)
  const ended =
    options.read === false
      ? new Promise<void>((resolve) =>
          stream.addEventListener('close', () => resolve(), { once: true })
        )
      : (async () => {
          try {
            for await (const chunk of stream)
              for (const body of decoder.push(chunk)) acks.push(decodeAck(body))
          } catch {
            wasReset = true
          }
          if (stream.status === 'reset' || stream.status === 'aborted') wasReset = true
        })()
  if (options.read === false) {
    stream.addEventListener('close', (event) => {
      if ((event as Event & { error?: Error }).error != null) wasReset = true
    })
  }
  return {
    stream,
    acks,
    ended,
    reset: () => wasReset || stream.status === 'reset' || stream.status === 'aborted',
    send: (bytes) => {
      if (stream.writeStatus !== 'writable') return false
      stream.send(bytes)
      return true
    },
    async waitForAcks(count, timeout = 5_000) {
      await waitFor(() => acks.length >= count, timeout, `${count} acks`)
      return acks
    }
  }
}

/** A receiver node serving envelopes, with what its handlers got. */
export interface Served {
  node: Libp2p
  handle: EnvelopeHandle
  handled: Array<EnvelopeMessage & { from: string }>
}

/** A libp2p node on 127.0.0.1 serving GOOD and OTHER through `handleEnvelopes(init)`. */
export async function serve(
  init: Partial<DntReceiverInit> = {},
  handler?: (message: EnvelopeMessage, from: string) => unknown
): Promise<Served> {
  const node = await createNode()
  const handled: Served['handled'] = []
  const record = async (message: EnvelopeMessage, from: string) => {
    handled.push({ ...message, from })
    const result = await handler?.(message, from)
    return result instanceof Uint8Array ? result : undefined
  }
  const handle = await handleEnvelopes(node, {
    handlers: { [GOOD]: record, [OTHER]: record },
    ...init
  })
  return { node, handle, handled }
}

/**
 * A well-behaved peer: a fresh node that delivers `count` messages in
 * envelope mode through the real transport while the test misbehaves
 * elsewhere. Resolves to the ids delivered.
 */
export async function wellBehaved(
  served: Served,
  count: number,
  options: Omit<Libp2pTransportInit, 'mode'> & { sender?: Libp2p } = {}
): Promise<string[]> {
  const { sender, ...init } = options
  const node = sender ?? (await createNode())
  const transport = libp2pTransport(node, { ...init, mode: 'envelope' })
  const entries = Array.from({ length: count }, () =>
    testEntry({
      peer: served.node.peerId.toString(),
      addrs: addrsOf(served.node),
      protocol: GOOD
    })
  )
  try {
    await Promise.all(
      entries.map((entry) => transport.deliver(entry, { signal: AbortSignal.timeout(10_000) }))
    )
  } finally {
    await transport.close()
  }
  return entries.map((entry) => entry.id)
}

/** Ids the receiver handled from `peer`. */
export function handledFrom(served: Served, peer: Libp2p): string[] {
  const id = peer.peerId.toString()
  return served.handled.filter((message) => message.from === id).map((message) => message.id)
}

/** The raw protocol the test receivers serve. */
export const RAW = '/dntkit-test/raw/1.0.0'

/** A raw stream driven by hand: written to, and left open (or not) as an attacker likes. */
export interface HostileRawStream {
  stream: Stream
  /** Settles when the receiver ended the stream, cleanly or by a reset. */
  ended: Promise<void>
  /** Whether the receiver reset (rather than closed) the stream. */
  reset(): boolean
  /** Writes `bytes` unless the stream is no longer writable; false then. */
  send(bytes: Uint8Array): boolean
}

/** Opens a raw stream of `protocol` from `from` to `to` (over `connection` when given). */
export async function hostileRawStream(
  from: Libp2p,
  to: Libp2p,
  options: { protocol?: string; connection?: Connection } = {}
): Promise<HostileRawStream> {
  const protocol = options.protocol ?? RAW
  const stream =
    options.connection === undefined
      ? await from.dialProtocol(multiaddr(`${addrsOf(to)[0]}/p2p/${to.peerId}`), protocol)
      : await options.connection.newStream(protocol)
  let wasReset = false
  const ended = (async () => {
    try {
      for await (const _chunk of stream) {
        // a raw receiver writes nothing
      }
    } catch {
      wasReset = true
    }
  })()
  return {
    stream,
    ended,
    reset: () => wasReset || stream.status === 'reset' || stream.status === 'aborted',
    send: (bytes) => {
      if (stream.writeStatus !== 'writable') return false
      try {
        stream.send(bytes)
        return true
      } catch {
        return false
      }
    }
  }
}

/** A receiver node serving RAW (raw mode) and GOOD / OTHER (envelope) through one `handleMessages()`. */
export async function serveBoth(
  init: Partial<DntReceiverInit> = {},
  rawHandler?: (message: RawMessage, from: string) => unknown
): Promise<Served & { raw: Array<RawMessage & { from: string }> }> {
  const node = await createNode()
  const handled: Served['handled'] = []
  const raw: Array<RawMessage & { from: string }> = []
  const record = async (message: EnvelopeMessage, from: string) => {
    handled.push({ ...message, from })
  }
  const handle = await handleMessages(node, {
    handlers: { [GOOD]: record, [OTHER]: record },
    rawHandlers: {
      [RAW]: async (message, from) => {
        raw.push({ ...message, from })
        await rawHandler?.(message, from)
      }
    },
    ...init
  })
  return { node, handle, handled, raw }
}

/**
 * A well-behaved raw sender: a fresh node (or `sender`) that delivers
 * `count` messages on RAW through the real transport, one after the other.
 * Resolves to their payloads as text.
 */
export async function wellBehavedRaw(
  served: Served,
  count: number,
  options: { sender?: Libp2p; bytes?: number } = {}
): Promise<string[]> {
  const node = options.sender ?? (await createNode())
  const transport = libp2pTransport(node)
  const texts: string[] = []
  try {
    for (let index = 0; index < count; index++) {
      const text = `raw ${index} `.padEnd(options.bytes ?? 0, '.')
      await transport.deliver(
        testEntry({
          peer: served.node.peerId.toString(),
          addrs: addrsOf(served.node),
          protocol: RAW,
          payload: new TextEncoder().encode(text)
        }),
        { signal: AbortSignal.timeout(10_000) }
      )
      texts.push(text)
    }
  } finally {
    await transport.close()
  }
  return texts
}

/** A logger factory that keeps every line it is given (formatted loosely). */
export function capturingLogger(): { factory: LoggerFactory; lines: string[] } {
  const lines: string[] = []
  const write = (formatter: string, ...args: unknown[]) => {
    let index = 0
    lines.push(formatter.replace(/%[sdoO]/g, () => String(args[index++])))
  }
  const factory: LoggerFactory = () =>
    Object.assign(write, { error: write, trace: write, enabled: true }) as Logger
  return { factory, lines }
}

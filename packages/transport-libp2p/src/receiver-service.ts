import {
  type Startable,
  serviceCapabilities,
  serviceDependencies,
  type TypedEventTarget
} from '@libp2p/interface'
import type { DntReceiverComponents, ReceiverNode } from './host.js'
import { lendNode } from './node-lending.js'
import { type DntReceiverInit, ReceiverCore } from './receiver.js'
import { type HandlerTable, ReceiverRegistration } from './receiver-registration.js'
import type { ReceiverStats } from './receiver-stats.js'
import type { EnvelopeHandler, RawHandler, ReceiverEvents } from './receiver-types.js'

/** The receiving side as a libp2p service (`node.services.dntReceiver`). */
export interface DntReceiver extends TypedEventTarget<ReceiverEvents>, Startable, HandlerTable {
  /** The envelope protocol id it serves. */
  readonly protocol: string
  /** Envelope streams being served now. */
  readonly activeStreams: number
  /** Messages, refusals by code (`unauthorized`, `rate-limited`, ...), streams cut off by reason, bytes buffered. */
  stats(): ReceiverStats
}

class DntReceiverService extends ReceiverCore implements DntReceiver {
  readonly [Symbol.toStringTag] = '@dntkit/receiver'
  readonly [serviceCapabilities]: string[] = ['@dntkit/receiver']
  /** It serves streams of the node's connections: a node without a transport receives nothing. */
  readonly [serviceDependencies]: string[] = ['@libp2p/transport']
  private readonly registration: ReceiverRegistration
  private started = false

  constructor(components: DntReceiverComponents, init: DntReceiverInit) {
    // the dedupe store's key and datastore default to the node's own
    if (init.dedupe !== false) lendNode(init.dedupe?.store, components)
    super(init)
    this.registration = new ReceiverRegistration(this, components.registrar)
  }

  isStarted(): boolean {
    return this.started
  }

  async start(): Promise<void> {
    await this.registration.start()
    this.started = true
  }

  /** Lets running handlers finish while connections are still open. */
  async beforeStop(): Promise<void> {
    await this.registration.stop()
  }

  async stop(): Promise<void> {
    this.started = false
  }

  handle(protocol: string, handler: EnvelopeHandler): Promise<void> {
    return this.registration.handle(protocol, handler)
  }

  handleRaw(protocol: string, handler: RawHandler): Promise<void> {
    return this.registration.handleRaw(protocol, handler)
  }

  unhandle(protocol: string): Promise<void> {
    return this.registration.unhandle(protocol)
  }
}

/**
 * The receiving side as a libp2p service:
 * `createLibp2p({ services: { dntReceiver: dntReceiver({ handlers, rawHandlers }) } })`.
 * Envelope mode: each frame's handler runs once per message id inside the
 * dedupe window, frames of one stream in order, and the ack is sent after it
 * resolved. Raw mode: each stream is read to its clean end within the
 * limits, handed to its handler, then closed. Both share one memory budget.
 */
export function dntReceiver(
  init: DntReceiverInit = {}
): (components: DntReceiverComponents) => DntReceiver {
  // validate now, so a wrong option fails at the call site, not inside createLibp2p
  new ReceiverCore(init)
  return (components) => new DntReceiverService(components, init)
}

/** What `handleMessages()` resolves to: call it to stop serving. */
export interface ReceiverHandle extends HandlerTable {
  /** Unregisters every protocol, lets running handlers finish, closes the dedupe store. */
  (): Promise<void>
  /** The receiver's events (`message`, `duplicate`, `rejected`, `stream-error`, `dedupe-error`). */
  readonly events: TypedEventTarget<ReceiverEvents>
  /** What the receiver counted (see `DntReceiver.stats()`). */
  stats(): ReceiverStats
}

/** What `handleEnvelopes()` resolves to (the same as `handleMessages()`). */
export type EnvelopeHandle = ReceiverHandle

/**
 * Serves envelope `handlers` and `rawHandlers` on a node that is already
 * running (or not yet started), under one memory budget. Resolves once the
 * protocols are registered, to a function that stops serving.
 */
export async function handleMessages(
  node: ReceiverNode,
  init: DntReceiverInit
): Promise<ReceiverHandle> {
  const receiver = new ReceiverCore(init)
  const registration = new ReceiverRegistration(receiver, node)
  await registration.start()
  let stopped: Promise<void> | undefined
  const unhandle = (): Promise<void> => {
    stopped ??= registration.stop()
    return stopped
  }
  return Object.assign(unhandle, {
    events: receiver as TypedEventTarget<ReceiverEvents>,
    stats: () => receiver.stats(),
    handle: (protocol: string, handler: EnvelopeHandler) => registration.handle(protocol, handler),
    handleRaw: (protocol: string, handler: RawHandler) => registration.handleRaw(protocol, handler),
    unhandle: (protocol: string) => registration.unhandle(protocol)
  })
}

/**
 * Serves envelope mode on a running node: `handleMessages()` with envelope
 * `handlers` (raw ones may be given too).
 */
export function handleEnvelopes(
  node: ReceiverNode,
  init: DntReceiverInit
): Promise<EnvelopeHandle> {
  return handleMessages(node, { handlers: {}, ...init })
}

import { type Startable, serviceCapabilities, type TypedEventTarget } from '@libp2p/interface'
import type { DntReceiverComponents, ReceiverNode } from './host.js'
import { type DntReceiverInit, EnvelopeReceiverCore, type ReceiverEvents } from './receiver.js'
import type { ReceiverStats } from './receiver-stats.js'

/** The receiving side as a libp2p service (`node.services.dntReceiver`). */
export interface DntReceiver extends TypedEventTarget<ReceiverEvents>, Startable {
  /** The envelope protocol id it serves. */
  readonly protocol: string
  /** Envelope streams being served now. */
  readonly activeStreams: number
  /** Messages, refusals by code (`unauthorized`, `rate-limited`, ...), streams cut off by reason. */
  stats(): ReceiverStats
}

class DntReceiverService extends EnvelopeReceiverCore implements DntReceiver {
  readonly [Symbol.toStringTag] = '@dntkit/receiver'
  readonly [serviceCapabilities]: string[] = ['@dntkit/receiver']
  private started = false

  constructor(
    private readonly components: DntReceiverComponents,
    init: DntReceiverInit
  ) {
    super(init)
  }

  isStarted(): boolean {
    return this.started
  }

  async start(): Promise<void> {
    await this.open()
    await this.components.registrar.handle(this.protocol, this.handleStream, {
      maxInboundStreams: this.maxInboundStreams
    })
    this.started = true
  }

  /** Lets running handlers finish while connections are still open. */
  async beforeStop(): Promise<void> {
    await this.components.registrar.unhandle(this.protocol)
    await this.close()
  }

  async stop(): Promise<void> {
    this.started = false
  }
}

/**
 * The receiving side of envelope mode as a libp2p service:
 * `createLibp2p({ services: { dntReceiver: dntReceiver({ handlers }) } })`.
 * Each frame's handler runs once per message id inside the dedupe window,
 * frames of one stream in order, and the ack is sent after it resolved.
 */
export function dntReceiver(
  init: DntReceiverInit
): (components: DntReceiverComponents) => DntReceiver {
  // validate now, so a wrong option fails at the call site, not inside createLibp2p
  new EnvelopeReceiverCore(init)
  return (components) => new DntReceiverService(components, init)
}

/** What `handleEnvelopes()` resolves to: call it to stop serving. */
export interface EnvelopeHandle {
  /** Unregisters the protocol, lets running handlers finish, closes the dedupe store. */
  (): Promise<void>
  /** The receiver's events (`message`, `duplicate`, `rejected`, `stream-error`, `dedupe-error`). */
  readonly events: TypedEventTarget<ReceiverEvents>
  /** What the receiver counted (see `DntReceiver.stats()`). */
  stats(): ReceiverStats
}

/**
 * Serves envelope mode on a node that is already running. Resolves once the
 * protocol is registered, to a function that stops serving.
 */
export async function handleEnvelopes(
  node: ReceiverNode,
  init: DntReceiverInit
): Promise<EnvelopeHandle> {
  const receiver = new EnvelopeReceiverCore(init)
  await receiver.open()
  await node.handle(receiver.protocol, receiver.handleStream, {
    maxInboundStreams: receiver.maxInboundStreams
  })
  let stopped: Promise<void> | undefined
  const unhandle = (): Promise<void> => {
    stopped ??= (async () => {
      await node.unhandle(receiver.protocol)
      await receiver.close()
    })()
    return stopped
  }
  return Object.assign(unhandle, {
    events: receiver as TypedEventTarget<ReceiverEvents>,
    stats: () => receiver.stats()
  })
}

import type { AbortOptions, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'
import type { ReceiverCore } from './receiver.js'
import type { EnvelopeHandler, RawHandler } from './receiver-types.js'

/** Where a receiver registers its protocols: a node (`handle` / `unhandle`) or the registrar of a service. */
export interface ProtocolRegistrar {
  handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
  unhandle(protocol: string, options?: AbortOptions): Promise<void>
}

/** Adding and removing handlers while a receiver runs. */
export interface HandlerTable {
  /** Adds (or replaces) the envelope handler of an inner protocol; serves the envelope protocol if it was not yet. */
  handle(protocol: string, handler: EnvelopeHandler): Promise<void>
  /** Adds (or replaces) the raw handler of a protocol and serves that protocol. */
  handleRaw(protocol: string, handler: RawHandler): Promise<void>
  /** Removes the envelope and the raw handler of `protocol` (a raw protocol stops being served). */
  unhandle(protocol: string): Promise<void>
}

/**
 * Registers a receiver's protocols: the envelope protocol and one per raw
 * handler, at start and whenever a handler is added later (a frame for an
 * inner protocol without a handler is answered `unknown-protocol` and not
 * remembered, so its retry after the handler was added is handled). Every
 * change runs after the one before it.
 */
export class ReceiverRegistration implements HandlerTable {
  private started = false
  private envelopeServed = false
  private readonly rawServed = new Set<string>()
  private serial: Promise<unknown> = Promise.resolve()

  constructor(
    readonly core: ReceiverCore,
    private readonly registrar: ProtocolRegistrar
  ) {}

  /** Opens the receiver (its dedupe store) and registers its protocols. */
  start(): Promise<void> {
    return this.run(async () => {
      await this.core.open()
      this.started = true
      if (this.core.options.serveEnvelopes) await this.serveEnvelopes()
      for (const protocol of this.core.options.rawHandlers.keys()) await this.serveRaw(protocol)
    })
  }

  /** Unregisters every protocol, then lets running handlers finish and closes the receiver. */
  stop(): Promise<void> {
    return this.run(async () => {
      this.started = false
      const served = [...this.rawServed]
      if (this.envelopeServed) served.push(this.core.protocol)
      this.envelopeServed = false
      this.rawServed.clear()
      await Promise.allSettled(served.map((protocol) => this.registrar.unhandle(protocol)))
      await this.core.close()
    })
  }

  handle(protocol: string, handler: EnvelopeHandler): Promise<void> {
    check(protocol, handler)
    return this.run(async () => {
      this.core.options.handlers.set(protocol, handler)
      if (this.started) await this.serveEnvelopes()
    })
  }

  handleRaw(protocol: string, handler: RawHandler): Promise<void> {
    check(protocol, handler)
    if (protocol === this.core.protocol)
      throw new TypeError(`protocol ${protocol} is the envelope protocol, not a raw one`)
    return this.run(async () => {
      this.core.options.rawHandlers.set(protocol, handler)
      if (this.started) await this.serveRaw(protocol)
    })
  }

  unhandle(protocol: string): Promise<void> {
    return this.run(async () => {
      this.core.options.handlers.delete(protocol)
      this.core.options.rawHandlers.delete(protocol)
      if (this.rawServed.delete(protocol)) await this.registrar.unhandle(protocol)
    })
  }

  private async serveEnvelopes(): Promise<void> {
    if (this.envelopeServed) return
    await this.registrar.handle(this.core.protocol, this.core.handleStream, {
      maxInboundStreams: this.core.options.maxInboundStreams
    })
    this.envelopeServed = true
  }

  private async serveRaw(protocol: string): Promise<void> {
    if (this.rawServed.has(protocol)) return
    await this.registrar.handle(protocol, this.core.rawStreamHandler(protocol), {
      maxInboundStreams: this.core.options.maxInboundStreams
    })
    this.rawServed.add(protocol)
  }

  private run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.serial.then(operation)
    this.serial = result.catch(() => {})
    return result
  }
}

function check(protocol: unknown, handler: unknown): void {
  if (typeof protocol !== 'string' || protocol.length === 0)
    throw new TypeError('protocol must be a non-empty string')
  if (typeof handler !== 'function')
    throw new TypeError(`the handler of ${protocol} must be a function`)
}

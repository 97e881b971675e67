import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import {
  DeliveryFailedError,
  DeliveryRejectedError,
  PeerUnreachableError,
  StoreClosedError,
  UndeliverableError
} from '@dntkit/core'
import { testEntry } from '@dntkit/core/testing'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { asError, mapDeliveryError } from '../src/error-mapping.js'
import { libp2pTransport } from '../src/index.js'
import { addrsOf, createNode, stopAll } from './nodes.js'

const context = {
  peer: '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK',
  protocol: '/app/1.0.0',
  id: 'm1'
}

/** An error as libp2p makes it: a plain Error with a fixed name. */
function libp2pError(name: string, message: string): Error {
  const error = new Error(message)
  error.name = name
  return error
}

/** A stand-in for a browser WebSocket: an EventTarget with a url, so events have a target. */
class WebSocket extends EventTarget {
  readonly url = 'ws://127.0.0.1:9001/'
}

function errorEvent(): Event {
  const event = new Event('error')
  new WebSocket().dispatchEvent(event)
  return event
}

describe('mapDeliveryError', () => {
  it('maps a dial the connection gater denies to UndeliverableError (dial-denied), saying what to configure', () => {
    const cause = libp2pError(
      'DialDeniedError',
      `The connection gater denied all addresses in the dial request for peer: ${context.peer}`
    )
    const mapped = mapDeliveryError(cause, context)
    expect(UndeliverableError.isInstance(mapped)).toBe(true)
    expect((mapped as UndeliverableError).reason).toBe('dial-denied')
    expect(mapped.message).toMatch(
      /^this address is never dialled: the connection gater denies it; configure connectionGater\.denyDialMultiaddr/
    )
    expect(mapped.message).toContain('message m1 to 12D3KooW')
    expect(mapped.cause).toBe(cause)

    const byPeer = mapDeliveryError(
      libp2pError('DialDeniedError', 'The dial request is blocked by gater.allowDialPeer'),
      context
    )
    expect((byPeer as UndeliverableError).reason).toBe('dial-denied')
    expect(byPeer.message).toMatch(/this peer is never dialled.*connectionGater\.denyDialPeer/)
  })

  it('maps an address no transport can dial to UndeliverableError (no-transport)', () => {
    const addrs = ['/ip4/10.0.0.1/tcp/4001/ws']
    const unavailable = mapDeliveryError(
      libp2pError('TransportUnavailableError', 'No transport available for address /ip4/...'),
      { ...context, addrs }
    )
    expect((unavailable as UndeliverableError).reason).toBe('no-transport')
    expect(unavailable.message).toContain(
      'no transport of this node can dial the peer at /ip4/10.0.0.1/tcp/4001/ws'
    )

    const noValid = libp2pError('NoValidAddressesError', 'The dial request has no valid addresses')
    expect((mapDeliveryError(noValid, { ...context, addrs }) as UndeliverableError).reason).toBe(
      'no-transport'
    )
    // without addresses of its own the message may find one later (identify, an inbound connection)
    const unknown = mapDeliveryError(noValid, context)
    expect(PeerUnreachableError.isInstance(unknown)).toBe(true)
    expect(unknown.message).toMatch(/no known address: give the message `addrs`/)
  })

  it('keeps the other mappings: refused is unreachable, unsupported protocol is a failed message, dntkit errors pass', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED'
    })
    expect(PeerUnreachableError.isInstance(mapDeliveryError(refused, context))).toBe(true)
    const unsupported = mapDeliveryError(
      libp2pError('UnsupportedProtocolError', 'protocol selection failed'),
      context
    )
    expect(DeliveryFailedError.isInstance(unsupported)).toBe(true)
    expect((unsupported as DeliveryFailedError).reason).toBe('unsupported-protocol')
    for (const error of [
      new UndeliverableError('x', { reason: 'dial-denied' }),
      new PeerUnreachableError('y'),
      new DeliveryFailedError('w', { reason: 'reset' }),
      new DeliveryRejectedError('z')
    ]) {
      expect(mapDeliveryError(error, context)).toBe(error)
    }
    // a dntkit error that is not a delivery error is a failure like any other
    expect(
      PeerUnreachableError.isInstance(mapDeliveryError(new StoreClosedError('s'), context))
    ).toBe(true)
  })

  it('turns a DOM event into an Error that names the event and its target url', () => {
    const event = errorEvent()
    const error = asError(event)
    expect(error).toBeInstanceOf(Error)
    expect(error.message).toBe(
      'the transport failed with a WebSocket error event (ws://127.0.0.1:9001/)'
    )
    expect(error.cause).toBe(event)

    const mapped = mapDeliveryError(event, context)
    expect(PeerUnreachableError.isInstance(mapped)).toBe(true)
    expect(mapped.message).toContain('WebSocket error event (ws://127.0.0.1:9001/)')
    expect(mapped.message).not.toContain('isTrusted')
    expect(mapped.cause).toBeInstanceOf(Error)

    const closed = asError({ type: 'close', isTrusted: true, code: 1006, reason: '', target: null })
    expect(closed.message).toBe('the transport failed with a close event (code 1006)')
    expect(asError('boom').message).toBe('non-error rejection: "boom"')
  })

  it('describes each error of an AggregateError (several addresses failed)', () => {
    const aggregate = new AggregateError(
      [errorEvent(), Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
      'All multiaddr dials failed'
    )
    const mapped = mapDeliveryError(aggregate, context)
    expect(PeerUnreachableError.isInstance(mapped)).toBe(true)
    expect(mapped.message).toContain(
      'All multiaddr dials failed [Error: the transport failed with a WebSocket error event'
    )
    expect(mapped.message).toContain('ECONNREFUSED')
  })
})

describe('with real libp2p nodes', () => {
  const senders: Libp2p[] = []
  afterEach(async () => {
    await Promise.all(senders.splice(0).map((node) => node.stop()))
    await stopAll()
  })

  async function sender(gater: Record<string, () => boolean>): Promise<Libp2p> {
    const node = await createLibp2p({
      addresses: { listen: [] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: gater
    })
    senders.push(node)
    return node
  }

  for (const mode of ['raw', 'envelope'] as const) {
    it(`${mode}: a gater-denied dial is UndeliverableError (dial-denied), never an unreachable peer`, async () => {
      const receiver = await createNode()
      const node = await sender({ denyDialMultiaddr: () => true })
      const entry = testEntry({ peer: receiver.peerId.toString(), addrs: addrsOf(receiver) })
      const signal = new AbortController().signal
      const error = await libp2pTransport(node, { mode })
        .deliver(entry, { signal })
        .catch((caught: unknown) => caught)
      expect(UndeliverableError.isInstance(error)).toBe(true)
      expect((error as UndeliverableError).reason).toBe('dial-denied')
      expect((error as Error).message).toMatch(/configure connectionGater\.denyDialMultiaddr/)

      const byPeer = await sender({ denyDialPeer: () => true })
      const refused = await libp2pTransport(byPeer, { mode })
        .deliver(entry, { signal })
        .catch((caught: unknown) => caught)
      expect((refused as UndeliverableError).reason).toBe('dial-denied')
      expect((refused as Error).message).toMatch(/configure connectionGater\.denyDialPeer/)
    })
  }

  it('an address only another transport can dial is UndeliverableError (no-transport)', async () => {
    const receiver = await createNode()
    const node = await sender({})
    const entry = testEntry({
      peer: receiver.peerId.toString(),
      addrs: ['/ip4/127.0.0.1/tcp/9/ws']
    })
    const error = await libp2pTransport(node)
      .deliver(entry, { signal: new AbortController().signal })
      .catch((caught: unknown) => caught)
    expect(UndeliverableError.isInstance(error)).toBe(true)
    expect((error as UndeliverableError).reason).toBe('no-transport')
    expect((error as Error).message).toContain('/ip4/127.0.0.1/tcp/9/ws')
  })
})

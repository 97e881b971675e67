import { memoryStore } from '@dntkit/core'
import { describe, expect, it } from 'vitest'
import {
  authorizedStreamHandler,
  dntReceiver,
  handleMessages,
  libp2pTransport,
  type TransportNode
} from '../src/index.js'

/** Enough of a node for the transport to be made (nothing is dialed). */
const node = {
  dialProtocol: async () => {
    throw new Error('not dialed in this test')
  },
  dial: async () => {
    throw new Error('not dialed in this test')
  },
  peerStore: {},
  addEventListener: () => {},
  removeEventListener: () => {}
} as unknown as TransportNode

describe('unknown option names are a TypeError naming the option, nested objects too', () => {
  it('libp2pTransport(): a misspelt `mode` no longer leaves raw (at-least-once) mode in place', () => {
    expect(() => libp2pTransport(node, { mdoe: 'envelope' } as never)).toThrow(
      new TypeError('libp2pTransport(): unknown option "mdoe"')
    )
    expect(() => libp2pTransport(node, null as never)).toThrow(
      new TypeError('libp2pTransport() must be an options object')
    )
    const transport = libp2pTransport(node, { mode: 'envelope', streamLinger: 0 })
    expect(transport.openSessions).toBe(0)
  })

  it('dntReceiver() / handleMessages(): inside dedupe and rateLimit', async () => {
    // a misspelt `store` used to leave the window in memory only
    expect(() => dntReceiver({ dedupe: { stor: memoryStore() } } as never)).toThrow(
      new TypeError('receiver option dedupe: unknown option "stor"')
    )
    expect(() => dntReceiver({ dedupe: { maxAgeMs: 1_000 } } as never)).toThrow(
      new TypeError('receiver option dedupe: unknown option "maxAgeMs"')
    )
    expect(() => dntReceiver({ dedupe: { store: 'file:/tmp/x' } } as never)).toThrow(
      new TypeError('dedupe.store must be a Store (open, apply and close methods)')
    )
    expect(() => dntReceiver({ rateLimit: { perSecond: 10 } } as never)).toThrow(
      new TypeError('receiver option rateLimit: unknown option "perSecond"')
    )
    await expect(
      handleMessages(node as never, { rateLimit: { brust: 5 } } as never)
    ).rejects.toThrow(new TypeError('receiver option rateLimit: unknown option "brust"'))
    expect(() =>
      dntReceiver({ dedupe: { store: memoryStore(), maxAge: 1_000 }, rateLimit: { burst: 5 } })
    ).not.toThrow(TypeError)
  })

  it('authorizedStreamHandler()', () => {
    const handler = () => {}
    expect(() => authorizedStreamHandler(handler, { alow: [] } as never)).toThrow(
      new TypeError('authorizedStreamHandler(): unknown option "alow"')
    )
    expect(() => authorizedStreamHandler(handler, { onRefused: 1 } as never)).toThrow(
      new TypeError('authorizedStreamHandler() option onRefused must be a function')
    )
  })
})

import {
  DeliveryFailedError,
  definePolicy,
  Outbox,
  PeerUnreachableError,
  UndeliverableError
} from '@dntkit/core'
import { testEntry } from '@dntkit/core/testing'
import type { Stream } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { handleEnvelopes, libp2pTransport } from '../src/index.js'
import { addrsOf, createNode, stopAll, stopNode } from './nodes.js'

afterEach(stopAll)

const signal = (ms = 5_000) => AbortSignal.timeout(ms)
const isUnreachable = (error: unknown) => PeerUnreachableError.isInstance(error)
const isFailed = (error: unknown) => DeliveryFailedError.isInstance(error)
const isUndeliverable = (error: unknown) => UndeliverableError.isInstance(error)

async function pair() {
  const sender = await createNode()
  const receiver = await createNode()
  const target = (protocol: string) => ({
    peer: receiver.peerId.toString(),
    addrs: addrsOf(receiver),
    protocol
  })
  return { sender, receiver, target }
}

describe('raw mode', () => {
  it('delivers through an outbox to a plain handler that knows nothing of dntkit, in order', async () => {
    const { sender, receiver, target } = await pair()
    const received: string[] = []
    await receiver.handle('/plain/1.0.0', async (stream: Stream) => {
      const chunks: Uint8Array[] = []
      for await (const chunk of stream) chunks.push(chunk.subarray())
      received.push(Buffer.concat(chunks).toString())
      await stream.close()
    })
    const outbox = new Outbox({ transport: libp2pTransport(sender) })
    await outbox.start()
    for (let index = 0; index < 20; index++) {
      const result = await outbox.send({
        ...target('/plain/1.0.0'),
        payload: Buffer.from(`raw ${index}`)
      })
      expect(result.status).toBe('delivered')
    }
    expect(received).toEqual(Array.from({ length: 20 }, (_, index) => `raw ${index}`))
    await outbox.stop()
  })

  it('counts a reset by the handler as a failure of this message (retried), with the cause kept', async () => {
    const { sender, receiver, target } = await pair()
    await receiver.handle('/resets/1.0.0', async (stream: Stream) => {
      for await (const _chunk of stream) {
        stream.abort(new Error('handler gave up'))
        break
      }
    })
    const attempt = libp2pTransport(sender).deliver(testEntry(target('/resets/1.0.0')), {
      signal: signal()
    })
    await expect(attempt).rejects.toSatisfy(isFailed)
    await expect(attempt).rejects.toMatchObject({ reason: 'reset' })
    await expect(attempt).rejects.toHaveProperty('cause')
  })

  it('waits for the remote to close in remote-closed mode; written mode does not', async () => {
    const { sender, receiver, target } = await pair()
    let reads = 0
    await receiver.handle('/never-closes/1.0.0', async (stream: Stream) => {
      for await (const _chunk of stream) reads++
      // returns without closing its side
    })
    const waiting = libp2pTransport(sender).deliver(testEntry(target('/never-closes/1.0.0')), {
      signal: signal(400)
    })
    await expect(waiting).rejects.toSatisfy(isUnreachable)
    await expect(waiting).rejects.toThrow(/aborted/)

    const written = libp2pTransport(sender, { rawSuccess: 'written' })
    await written.deliver(testEntry(target('/never-closes/1.0.0')), { signal: signal() })
    expect(reads).toBeGreaterThanOrEqual(1)
  })

  it('fails a protocol the peer does not handle (yet) as unsupported-protocol, retried', async () => {
    const { sender, target } = await pair()
    const attempt = libp2pTransport(sender).deliver(testEntry(target('/not-handled/1.0.0')), {
      signal: signal()
    })
    await expect(attempt).rejects.toSatisfy(isFailed)
    await expect(attempt).rejects.toMatchObject({
      reason: 'unsupported-protocol',
      cause: { name: 'UnsupportedProtocolError' }
    })
  })

  it('a bad peer id or address is undeliverable, naming it', async () => {
    const { sender, receiver, target } = await pair()
    const transport = libp2pTransport(sender)
    const cases: Array<[Partial<ReturnType<typeof target>>, RegExp]> = [
      [{ peer: 'not-a-peer-id' }, /peer "not-a-peer-id" is not a valid peer id/],
      [
        { addrs: ['/ip4/127.0.0.1/tcp/notaport'] },
        /address "\/ip4\/127.0.0.1\/tcp\/notaport" is not a valid multiaddr/
      ],
      [{ addrs: [`/ip4/127.0.0.1/tcp/1/p2p/${sender.peerId}`] }, /names peer/]
    ]
    for (const [overrides, message] of cases) {
      const attempt = transport.deliver(testEntry({ ...target('/p/1'), ...overrides }), {
        signal: signal()
      })
      await expect(attempt).rejects.toSatisfy(isUndeliverable)
      await expect(attempt).rejects.toThrow(message)
    }
    expect(receiver.getConnections()).toEqual([])
  })

  it('merges addresses into the peer store (a /p2p suffix naming the peer is fine), then dials by peer id', async () => {
    const { sender, receiver, target } = await pair()
    await receiver.handle('/plain/1.0.0', async (stream: Stream) => {
      for await (const _chunk of stream) {
      }
      await stream.close()
    })
    const transport = libp2pTransport(sender)
    const withSuffix = {
      ...target('/plain/1.0.0'),
      addrs: [`${addrsOf(receiver)[0]}/p2p/${receiver.peerId}`]
    }
    await transport.deliver(testEntry(withSuffix), { signal: signal() })
    const known = await sender.peerStore.get(receiver.peerId)
    expect(known.addresses.map((address) => address.multiaddr.toString())).toContain(
      addrsOf(receiver)[0]
    )

    await sender.hangUp(receiver.peerId)
    expect(sender.getConnections(receiver.peerId)).toEqual([])
    const { addrs: _unused, ...byPeerId } = target('/plain/1.0.0')
    await transport.deliver(testEntry(byPeerId), { signal: signal() })
    expect(sender.getConnections(receiver.peerId)).toHaveLength(1)
  })

  it('reports a stopped peer unreachable, with the refused dial as cause', async () => {
    const { sender, receiver, target } = await pair()
    const down = target('/plain/1.0.0')
    await stopNode(receiver)
    const attempt = libp2pTransport(sender).deliver(testEntry(down), { signal: signal() })
    await expect(attempt).rejects.toSatisfy(isUnreachable)
    await expect(attempt).rejects.toThrow(
      /peer unreachable: message test-\d+ to 12D3KooW\w+ \(\/plain\/1.0.0\)/
    )
  })

  it('makes one dial, not one per entry, for a backlog queued behind an unreachable peer', async () => {
    const { sender, receiver, target } = await pair()
    const down = target('/plain/1.0.0')
    await stopNode(receiver)
    let dials = 0
    const counting = {
      dial: ((...args: Parameters<typeof sender.dial>) => {
        dials++
        return sender.dial(...args)
      }) as typeof sender.dial,
      dialProtocol: ((...args: Parameters<typeof sender.dialProtocol>) => {
        dials++
        return sender.dialProtocol(...args)
      }) as typeof sender.dialProtocol,
      peerStore: sender.peerStore,
      addEventListener: sender.addEventListener.bind(sender),
      removeEventListener: sender.removeEventListener.bind(sender)
    }
    const outbox = new Outbox({
      transport: libp2pTransport(counting),
      policy: definePolicy({
        levels: { critical: { backoff: { type: 'fixed', interval: 60_000 } } }
      })
    })
    await outbox.start()
    for (let index = 0; index < 10; index++) {
      expect((await outbox.send({ ...down, payload: new Uint8Array([index]) })).status).toBe(
        'queued'
      )
    }
    expect(dials).toBe(1)
    await outbox.stop()
  })

  it('chooses the mode per entry when given a function, and validates its options', async () => {
    const { sender, receiver, target } = await pair()
    const raw: string[] = []
    await receiver.handle('/plain/1.0.0', async (stream: Stream) => {
      for await (const chunk of stream) raw.push(Buffer.from(chunk.subarray()).toString())
      await stream.close()
    })
    const enveloped: string[] = []
    await handleEnvelopes(receiver, {
      handlers: {
        '/framed/1.0.0': (message) => void enveloped.push(Buffer.from(message.payload).toString())
      }
    })
    const transport = libp2pTransport(sender, {
      mode: (entry) => (entry.protocol === '/framed/1.0.0' ? 'envelope' : 'raw')
    })
    await transport.deliver(testEntry({ ...target('/plain/1.0.0'), payload: Buffer.from('a') }), {
      signal: signal()
    })
    await transport.deliver(testEntry({ ...target('/framed/1.0.0'), payload: Buffer.from('b') }), {
      signal: signal()
    })
    expect(raw).toEqual(['a'])
    expect(enveloped).toEqual(['b'])
    await transport.close()

    expect(() => libp2pTransport(sender, { mode: 'fast' as 'raw' })).toThrow(/mode must be/)
    expect(() => libp2pTransport(sender, { rawSuccess: 'maybe' as 'written' })).toThrow(
      /rawSuccess/
    )
    expect(() => libp2pTransport(sender, { maxFramesInFlight: 5000 })).toThrow(
      /maxFramesInFlight must be an integer from 1 to 1024/
    )
    expect(() => libp2pTransport(sender, { maxReplyBytes: 1.5 })).toThrow(
      /maxReplyBytes must be an integer from 0 to 8388608, got 1.5/
    )
  })
})

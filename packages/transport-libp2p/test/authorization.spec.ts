import { DeliveryFailedError, DeliveryRejectedError } from '@dntkit/core'
import { testEntry } from '@dntkit/core/testing'
import type { Stream } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import {
  authorizedStreamHandler,
  dntReceiver,
  handleEnvelopes,
  libp2pTransport
} from '../src/index.js'
import {
  frame,
  GOOD,
  handledFrom,
  headerOnly,
  hostileStream,
  OTHER,
  serve,
  wellBehaved
} from './hostile-peer.js'
import { addrsOf, createNode, stopAll, waitFor } from './nodes.js'

afterEach(stopAll)

const signal = () => AbortSignal.timeout(5_000)

describe('receiver authorization', () => {
  it('allow: answers a peer not on the list rejected / unauthorized from the header, then ends its stream', async () => {
    const friend = await createNode()
    const served = await serve({ allow: [friend.peerId.toString()], idleTimeout: 10_000 })
    const stranger = await createNode()
    const stream = await hostileStream(stranger, served.node)
    // declares 1 MiB of payload and sends none of it: the answer comes from the header alone
    stream.send(headerOnly(0, 'intrusion', GOOD, 1024 * 1024))
    const friendly = wellBehaved(served, 20, { sender: friend })
    const [answer] = await stream.waitForAcks(1)
    expect(answer).toMatchObject({ sequence: 0, status: 'rejected', code: 'unauthorized' })
    expect(answer?.reason).toContain(stranger.peerId.toString())
    await stream.ended // the receiver stopped reading that peer's stream
    expect(await friendly).toHaveLength(20)
    expect(handledFrom(served, stranger)).toEqual([])
    expect(handledFrom(served, friend)).toHaveLength(20)
    expect(served.handle.stats().rejected.unauthorized).toBe(1)
  })

  it('allow: the real transport of a stranger gets DeliveryRejectedError (unauthorized), never retried', async () => {
    const friend = await createNode()
    const served = await serve({ allow: [friend.peerId.toString()] })
    const rejected: string[] = []
    served.handle.events.addEventListener('rejected', (event) => rejected.push(event.detail.code))
    const stranger = await createNode()
    const transport = libp2pTransport(stranger, { mode: 'envelope' })
    const attempt = transport.deliver(
      testEntry({
        peer: served.node.peerId.toString(),
        addrs: addrsOf(served.node),
        protocol: GOOD
      }),
      { signal: signal() }
    )
    await expect(attempt).rejects.toSatisfy((error: unknown) =>
      DeliveryRejectedError.isInstance(error)
    )
    await expect(attempt).rejects.toMatchObject({ reason: 'unauthorized' })
    expect(rejected).toEqual(['unauthorized'])
    await transport.close()
  })

  it('authorize: decides per inner protocol from the header; a refused payload is skipped and the stream goes on', async () => {
    const seen: Array<[string, string, unknown]> = []
    const hostile = await createNode()
    const served = await serve({
      authorize: (peerId, protocol, meta) => {
        seen.push([peerId, protocol, meta])
        return protocol === GOOD
      }
    })
    const stream = await hostileStream(hostile, served.node)
    // meta claims another identity: the hook still gets the peer noise authenticated
    const claim = { from: served.node.peerId.toString() }
    stream.send(headerOnly(0, 'wrong-door', OTHER, 100_000, claim))
    const [refusal] = await stream.waitForAcks(1)
    expect(refusal).toMatchObject({ sequence: 0, status: 'rejected', code: 'unauthorized' })
    stream.send(new Uint8Array(100_000)) // the refused body, discarded as it arrives
    stream.send(frame(1, 'right-door', GOOD))
    const acks = await stream.waitForAcks(2)
    expect(acks[1]).toMatchObject({ sequence: 1, status: 'ok' })
    expect(handledFrom(served, hostile)).toEqual(['right-door'])
    expect(seen[0]).toEqual([hostile.peerId.toString(), OTHER, claim])
    expect(seen[1]).toEqual([hostile.peerId.toString(), GOOD, undefined])
  })

  it('authorize: an asynchronous hook is awaited; one that throws answers try-later / authorize-error', async () => {
    let release!: (allowed: boolean) => void
    const decided = new Promise<boolean>((resolve) => {
      release = resolve
    })
    let asked = 0
    const served = await serve({
      authorize: (_peer, protocol) => {
        asked++
        if (protocol === OTHER) throw new Error('directory unavailable')
        return decided
      }
    })
    const hostile = await createNode()
    const stream = await hostileStream(hostile, served.node)
    stream.send(frame(0, 'waits', GOOD))
    await waitFor(() => asked === 1, 5_000, 'the hook to be asked')
    expect(stream.acks).toEqual([]) // the hook has not answered: neither has the receiver
    release(true)
    await stream.waitForAcks(1)
    stream.send(frame(1, 'broken', OTHER))
    const acks = await stream.waitForAcks(2)
    expect(acks.map((ack) => [ack.status, ack.code])).toEqual([
      ['ok', undefined],
      ['try-later', 'authorize-error']
    ])
    expect(handledFrom(served, hostile)).toEqual(['waits'])
  })

  it('checks allow entries: a value that is not a peer id is a TypeError naming it', async () => {
    const friend = await createNode()
    const allow = [friend.peerId.toString(), 'not-a-peer']
    expect(() => dntReceiver({ handlers: {}, allow })).toThrow(
      /allow\[1\] "not-a-peer" is not a valid peer id/
    )
    await expect(handleEnvelopes(friend, { handlers: {}, allow })).rejects.toThrow(TypeError)
    expect(() => authorizedStreamHandler(() => {}, { allow: ['12D3KooW'] })).toThrow(/allow\[0\]/)
  })
})

describe('raw mode authorization (authorizedStreamHandler)', () => {
  it('resets a stream from a peer not on the list before the handler runs; allowed peers are served', async () => {
    const receiver = await createNode()
    const friend = await createNode()
    const stranger = await createNode()
    const received: string[] = []
    const refused: string[] = []
    await receiver.handle(
      '/plain/1.0.0',
      authorizedStreamHandler(
        async (stream: Stream) => {
          const chunks: Uint8Array[] = []
          for await (const chunk of stream) chunks.push(chunk.subarray())
          received.push(Buffer.concat(chunks).toString())
          await stream.close()
        },
        { allow: [friend.peerId.toString()], onRefused: (detail) => refused.push(detail.from) }
      )
    )
    const target = {
      peer: receiver.peerId.toString(),
      addrs: addrsOf(receiver),
      protocol: '/plain/1.0.0'
    }
    const fromStranger = libp2pTransport(stranger).deliver(
      testEntry({ ...target, payload: Buffer.from('let me in') }),
      { signal: signal() }
    )
    // a raw receiver can only reset the stream: the sender sees this message fail, retried
    await expect(fromStranger).rejects.toMatchObject({
      name: 'DeliveryFailedError',
      reason: 'reset'
    })
    await expect(fromStranger).rejects.toSatisfy((error: unknown) =>
      DeliveryFailedError.isInstance(error)
    )
    await libp2pTransport(friend).deliver(testEntry({ ...target, payload: Buffer.from('hello') }), {
      signal: signal()
    })
    expect(received).toEqual(['hello'])
    expect(refused).toEqual([stranger.peerId.toString()])
  })
})

import {
  createEntry,
  DeliveryRejectedError,
  definePolicy,
  type Entry,
  Outbox,
  PeerUnreachableError,
  type Transport
} from '@dntkit/core'
import { manualClock } from '@dntkit/core/testing'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { authorizedStreamHandler, libp2pTransport } from '../src/index.js'
import { GOOD, serve, wellBehaved } from './hostile-peer.js'
import { addrsOf, createNode, stopAll } from './nodes.js'

afterEach(stopAll)

async function peerId(index: number): Promise<PeerId> {
  const seed = new Uint8Array(32).fill(index)
  return peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', seed))
}

/** A transport whose peers are all down, counting attempts per peer. */
class DownTransport implements Transport {
  readonly attempts: string[] = []
  async deliver(entry: Entry): Promise<void> {
    this.attempts.push(entry.peer)
    throw new PeerUnreachableError(`${entry.peer} is down`)
  }
}

const policy = definePolicy({
  levels: { critical: { backoff: { type: 'fixed', interval: 60_000 } } },
  flushOnReachable: true
})

describe('PeerId (and Multiaddr) objects are taken wherever a peer is, as strings are', () => {
  it('the Outbox: entries({ peer }), queuedFor(), flush(), peerReachable(), purge({ peer }), createEntry()', async () => {
    const [a, b] = [await peerId(1), await peerId(2)]
    const transport = new DownTransport()
    const clock = manualClock()
    const outbox = new Outbox({ transport, policy, clock })
    await outbox.start()
    const address = multiaddr('/ip4/127.0.0.1/tcp/4001')
    for (const [peer, id] of [
      [a, 'a-1'],
      [a, 'a-2'],
      [b, 'b-1']
    ] as const) {
      await outbox.send({ id, peer, addrs: [address], protocol: GOOD, payload: new Uint8Array(1) })
    }
    expect(outbox.entries({ peer: a }).map((entry) => entry.id)).toEqual(['a-1', 'a-2'])
    expect(outbox.entries({ peer: b }).map((entry) => [entry.peer, entry.addrs])).toEqual([
      [b.toString(), ['/ip4/127.0.0.1/tcp/4001']]
    ])
    expect([outbox.queuedFor(a), outbox.queuedFor(b)]).toEqual([2, 1])

    transport.attempts.length = 0
    await outbox.flush(b)
    expect(transport.attempts).toEqual([b.toString()])
    const reachable: string[] = []
    outbox.addEventListener('peer-reachable', (event) => reachable.push(event.detail.peer))
    const failed = new Promise<string>((resolve) =>
      outbox.addEventListener('attempt-failed', (event) => resolve(event.detail.peer), {
        once: true
      })
    )
    outbox.peerReachable(a)
    expect(await failed).toBe(a.toString())
    expect(reachable).toEqual([a.toString()])
    expect(transport.attempts).toEqual([b.toString(), a.toString()])

    expect(await outbox.purge({ peer: a })).toBe(2)
    expect(outbox.entries().map((entry) => entry.id)).toEqual(['b-1'])

    const entry = createEntry(
      { peer: b, addrs: [address], protocol: GOOD, payload: new Uint8Array(1) },
      'critical',
      clock.now()
    )
    expect([entry.peer, entry.addrs]).toEqual([b.toString(), ['/ip4/127.0.0.1/tcp/4001']])
    await outbox.stop()
  })

  it("the receiver's allow list (dntReceiver, handleMessages, authorizedStreamHandler) takes PeerId objects", async () => {
    const friend = await createNode()
    const stranger = await createNode()
    const served = await serve({ allow: [friend.peerId] })
    expect(await wellBehaved(served, 2, { sender: friend })).toHaveLength(2)
    const transport = libp2pTransport(stranger, { mode: 'envelope' })
    const refused = transport.deliver(
      createEntry(
        {
          peer: served.node.peerId,
          addrs: addrsOf(served.node),
          protocol: GOOD,
          payload: new Uint8Array(1)
        },
        'critical'
      ),
      { signal: AbortSignal.timeout(10_000) }
    )
    await expect(refused).rejects.toSatisfy(
      (error: unknown) =>
        DeliveryRejectedError.isInstance(error) &&
        (error as DeliveryRejectedError).reason === 'unauthorized'
    )
    await transport.close()
    expect(served.handled.map((message) => message.from)).toEqual([
      friend.peerId.toString(),
      friend.peerId.toString()
    ])
    expect(() => authorizedStreamHandler(() => {}, { allow: [friend.peerId] })).not.toThrow(
      TypeError
    )
    expect(() => authorizedStreamHandler(() => {}, { allow: [{} as never] })).toThrow(
      /allow\[0\] "\[object Object\]" is not a valid peer id/
    )
  })
})

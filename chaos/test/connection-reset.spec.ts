/**
 * The network failing in the middle of one raw delivery, made exact with a
 * proxy that resets the connection (RST both ways) at a chosen moment. On a
 * reset, libp2p ends the streams of the connection as if they had been
 * closed cleanly (`status: 'closed'`, `remoteWriteStatus: 'closed'`); only
 * the connection says `aborted`. Neither side may take that for a message:
 * the sender must not report it delivered (it would never be retried: lost),
 * and `dnt listen` must not record what it read of it (an empty or cut
 * payload reported as a message).
 */
import { watch, writeFileSync } from 'node:fs'
import { DeliveryFailedError } from '@dntkit/core'
import { libp2pTransport } from '@dntkit/transport-libp2p'
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, expect, it } from 'vitest'
import { killAll, startDnt } from '../src/child.js'
import { PROTOCOL } from '../src/constants.js'
import { type FlappingProxy, flappingProxy } from '../src/flapping-proxy.js'
import { identityFor } from '../src/identity.js'
import { readReceived } from '../src/ledger.js'
import { addressOf, createChaosNode } from '../src/node.js'
import { freePorts } from '../src/ports.js'
import { workspace } from '../src/temporary.js'

const nodes: Libp2p[] = []
const proxies: FlappingProxy[] = []
afterEach(async () => {
  await killAll()
  for (const proxy of proxies.splice(0)) await proxy.close()
  for (const node of nodes.splice(0)) await node.stop()
})

it('a raw delivery cut by a connection reset is not reported delivered', async () => {
  const [inner, outer] = (await freePorts(2)) as [number, number]
  const receiver = await createChaosNode(identityFor('reset-receiver').privateKey, inner, outer)
  const sender = await createChaosNode(identityFor('reset-sender').privateKey)
  nodes.push(receiver, sender)
  const proxy = flappingProxy(outer, inner)
  proxies.push(proxy)
  await proxy.up()
  // the network fails while the receiving handler works, before it answers: the handler cuts
  // the link itself, then waits until its end of the connection is gone (it never answers)
  let seenByHandler: string | undefined
  await receiver.handle(PROTOCOL, async (_stream, connection) => {
    const gone = new Promise<void>((resolve) => {
      if (connection.status !== 'open') resolve()
      else connection.addEventListener('close', () => resolve(), { once: true })
    })
    await proxy.down()
    await gone
    seenByHandler = connection.status
  })
  const transport = libp2pTransport(sender, { mode: 'raw' })
  const entry = {
    id: 'reset-1',
    peer: identityFor('reset-receiver').peerId,
    addrs: [addressOf(outer)],
    protocol: PROTOCOL,
    payload: new TextEncoder().encode('a message the receiver never processed'),
    level: 'critical',
    attempts: 0,
    createdAt: Date.now(),
    nextAttemptAt: Date.now()
  }
  const outcome = await transport.deliver(entry, { signal: AbortSignal.timeout(5_000) }).then(
    () => 'reported delivered',
    (error: unknown) => error
  )
  await transport.close()
  // the peer was reached and this message broke on the way: it is retried, charged to it alone
  expect(
    DeliveryFailedError.isInstance(outcome),
    `deliver() after a connection reset: ${String(outcome)}`
  ).toBe(true)
  expect((outcome as DeliveryFailedError).reason).toBe('reset')
  // it was the reset: the handler's connection died under it, and the proxy cut it
  expect(seenByHandler).not.toBe('open')
  expect(proxy.resets).toBeGreaterThan(0)
})

it('dnt listen records nothing of a raw stream cut by a connection reset', async () => {
  const space = workspace('reset-listen')
  try {
    const [inner, outer] = (await freePorts(2)) as [number, number]
    const key = space.keyFile('receiver.key', identityFor('reset-listener'))
    const out = space.at('received.jsonl')
    writeFileSync(out, '')
    // the receiver's log says when it cut a stream off: the end of the story, without a timer
    const listener = startDnt(
      [
        'listen',
        '--key',
        key,
        '--listen',
        addressOf(inner),
        '--protocol',
        PROTOCOL,
        '--mode',
        'raw',
        '--jsonl',
        out
      ],
      { env: { DEBUG: 'dntkit:transport-libp2p:receiver' } }
    )
    await listener.waitFor(/listening on/, 20_000, 'stderr')
    const proxy = flappingProxy(outer, inner)
    proxies.push(proxy)
    await proxy.up()
    const sender = await createChaosNode(identityFor('reset-sender-2').privateKey)
    nodes.push(sender)
    // half a message, then the network fails before the sender could finish it
    const stream = await sender.dialProtocol(
      multiaddr(addressOf(outer, identityFor('reset-listener').peerId)),
      PROTOCOL
    )
    const half = new TextEncoder().encode('the first half of a mess')
    const before = proxy.forwarded
    const passed = new Promise<void>((resolve) => {
      const stop = proxy.onForward(() => {
        if (proxy.forwarded < before + half.byteLength) return
        stop()
        resolve()
      })
    })
    stream.send(half)
    await passed // it is on its way to the listener (framed and encrypted: at least its length)
    await proxy.down()
    // the listener saw the stream end: cut off (the fix) or, were it taken for a message, recorded
    const recorded = new Promise<void>((resolve) => {
      const watcher = watch(out, () => {
        if (readReceived(out).length === 0) return
        watcher.close()
        resolve()
      })
      void listener.exited.then(() => watcher.close())
    })
    await Promise.race([
      listener.waitFor(/raw stream from \S+ on \S+ cut off/, 30_000, 'stderr'),
      recorded
    ])
    expect((await listener.kill('SIGTERM')).code).toBe(0)
    expect(readReceived(out), 'records written by dnt listen').toEqual([])
    expect(listener.stderr()).toMatch(/raw stream from \S+ on \S+ cut off/)
  } finally {
    space.remove()
  }
})

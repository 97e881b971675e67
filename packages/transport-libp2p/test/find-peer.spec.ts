import { format } from 'node:util'
import {
  definePolicy,
  type Entry,
  type Logger,
  type LoggerFactory,
  PeerUnreachableError
} from '@dntkit/core'
import { manualClock } from '@dntkit/core/testing'
import {
  type Libp2p,
  NotFoundError,
  type PeerId,
  type PeerInfo,
  type PeerRouting,
  type PrivateKey
} from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { type Dnt, dnt, handleEnvelopes, libp2pTransport, type PeerLookup } from '../src/index.js'
import { recordingMetrics } from './metrics-recorder.js'
import { addrsOf, createNode, fixedKey, portOf, stopAll, stopNode, waitFor } from './nodes.js'

const PROTOCOL = '/dntkit-test/moved/1.0.0'
/** So long that only a flush, or the attempt a lookup makes due, can explain an attempt. */
const BACKOFF = 10 * 60_000
const policy = definePolicy({
  levels: { critical: { backoff: { type: 'fixed', interval: BACKOFF } } }
})

afterEach(stopAll)

/** A stand-in for a DHT or a delegated router: answers with what `answer` says, counts its calls. */
function stubRouter(
  answer: (peer: PeerId) => PeerInfo | undefined
): PeerRouting & { calls: number } {
  return {
    calls: 0,
    async findPeer(peer) {
      this.calls++
      const found = answer(peer)
      if (found === undefined) throw new NotFoundError(`no address for ${peer}`)
      return found
    },
    async *getClosestPeers() {}
  }
}

/** A receiver of `PROTOCOL` on 127.0.0.1 at `port` (0: a new one). */
async function receiver(key: PrivateKey, into: string[], port = 0): Promise<Libp2p> {
  const node = await createNode({ privateKey: key, port })
  await handleEnvelopes(node, {
    handlers: { [PROTOCOL]: (message) => void into.push(Buffer.from(message.payload).toString()) }
  })
  return node
}

/** A receiver that restarted with the same key on a port other than `oldPort`. */
async function movedReceiver(key: PrivateKey, into: string[], oldPort: number): Promise<Libp2p> {
  for (;;) {
    const node = await receiver(key, into)
    if (portOf(node) !== oldPort) return node
    await stopNode(node)
  }
}

/** A logger factory that keeps every line (errors prefixed `error:`). */
function recordingLogger(lines: string[]): LoggerFactory {
  return () => {
    const log = ((formatter: string, ...args: unknown[]) =>
      void lines.push(format(formatter, ...args))) as Logger
    log.error = (formatter, ...args) => void lines.push(`error: ${format(formatter, ...args)}`)
    log.trace = () => {}
    log.enabled = true
    return log
  }
}

function entryFor(peer: string, addrs: string[], id: string): Entry {
  return {
    id,
    peer,
    addrs,
    protocol: PROTOCOL,
    payload: Buffer.from(id),
    level: 'critical',
    attempts: 0,
    createdAt: 0,
    nextAttemptAt: 0
  }
}

/** A delivery that must fail because the peer is unreachable. */
async function unreachable(delivery: Promise<unknown>): Promise<void> {
  const error = await delivery.then(
    () => undefined,
    (failure: unknown) => failure
  )
  expect(PeerUnreachableError.isInstance(error)).toBe(true)
}

describe('finding a peer that moved', () => {
  it('a receiver restarted on a new port is looked up after 5 failed attempts and gets the message there', async () => {
    const key = await fixedKey(71)
    const received: string[] = []
    const first = await receiver(key, received)
    const peer = first.peerId.toString()
    const oldAddrs = addrsOf(first)
    const oldPort = portOf(first)
    await stopNode(first)

    let current: Libp2p | undefined
    const router = stubRouter((id) =>
      current === undefined ? undefined : { id, multiaddrs: current.getMultiaddrs() }
    )
    const metrics = recordingMetrics()
    const sender = await createNode<{ dnt: Dnt }>({
      peerRouters: [() => router],
      metrics: () => metrics,
      services: { dnt: dnt({ policy }) }
    })
    const { outbox, transport } = sender.services.dnt
    const lookups: PeerLookup[] = []
    transport.onPeerLookup((lookup) => lookups.push(lookup))
    const failed: string[] = []
    outbox.addEventListener('attempt-failed', (event) => failed.push(event.detail.scope))

    // the entry carries the old address only
    const sent = await sender.services.dnt.send({
      peer,
      addrs: oldAddrs,
      protocol: PROTOCOL,
      payload: Buffer.from('hello')
    })
    expect(sent.status).toBe('queued')
    current = await movedReceiver(key, received, oldPort)

    for (let attempt = 2; attempt <= 4; attempt++) await outbox.flush()
    expect(failed).toEqual(['peer', 'peer', 'peer', 'peer'])
    expect(router.calls).toBe(0)
    // the fifth failed attempt in a row starts the lookup; what it finds makes the next attempt due
    await outbox.flush()
    await outbox.whenDrained({ signal: AbortSignal.timeout(15_000) })

    expect(received).toEqual(['hello'])
    expect(failed).toHaveLength(5)
    expect(router.calls).toBe(1)
    const newAddrs = addrsOf(current)
    expect(lookups).toEqual([
      { peer, failures: 5, result: 'found', addresses: newAddrs, newAddresses: newAddrs }
    ])
    expect(transport.peerLookups).toEqual({
      started: 1,
      found: 1,
      notFound: 0,
      failed: 0,
      aborted: 0,
      newAddresses: newAddrs.length,
      inFlight: 0
    })
    expect(metrics.values.get('dntkit_peer_lookups_total')).toEqual({ found: 1 })
    expect(metrics.values.get('dntkit_peer_lookup_new_addresses_total')).toBe(newAddrs.length)
  })

  it('repeated failures look a peer up at most once per interval, on the transport clock', async () => {
    const key = await fixedKey(72)
    const gone = await receiver(key, [])
    const peer = gone.peerId.toString()
    const addrs = addrsOf(gone)
    await stopNode(gone)
    const router = stubRouter(() => undefined)
    const sender = await createNode({ peerRouters: [() => router] })
    const clock = manualClock()
    const transport = libp2pTransport(sender, {
      clock,
      findPeer: { after: 2, interval: 300_000 }
    })
    const lookups: PeerLookup[] = []
    transport.onPeerLookup((lookup) => lookups.push(lookup))
    const signal = new AbortController().signal
    let sequence = 0
    const attempt = () =>
      unreachable(transport.deliver(entryFor(peer, addrs, `m${++sequence}`), { signal }))

    // three dials at once are one round: one failure
    await Promise.all([attempt(), attempt(), attempt()])
    expect(transport.peerLookups.started).toBe(0)
    await attempt()
    await waitFor(() => lookups.length === 1, 10_000, 'the first lookup')
    expect(lookups[0]).toMatchObject({ peer, failures: 2, result: 'not-found', addresses: [] })
    expect(router.calls).toBe(1)

    for (let index = 0; index < 3; index++) await attempt()
    await clock.advance(299_999)
    await attempt()
    expect(router.calls).toBe(1)
    expect(transport.peerLookups.started).toBe(1)

    await clock.advance(1)
    await attempt()
    await waitFor(() => lookups.length === 2, 10_000, 'the second lookup')
    expect(lookups[1]).toMatchObject({ peer, failures: 7, result: 'not-found' })
    expect(router.calls).toBe(2)
    expect(transport.peerLookups).toMatchObject({ started: 2, notFound: 2, inFlight: 0 })
    await transport.close()
  })

  it('without a peer router attempts go on as before, and one line says so', async () => {
    const key = await fixedKey(73)
    const received: string[] = []
    const gone = await receiver(key, received)
    const peer = gone.peerId.toString()
    const addrs = addrsOf(gone)
    const port = portOf(gone)
    await stopNode(gone)
    const sender = await createNode()
    const clock = manualClock()
    const lines: string[] = []
    const transport = libp2pTransport(sender, {
      mode: 'envelope',
      clock,
      logger: recordingLogger(lines),
      findPeer: { after: 2, interval: 1_000 }
    })
    const lookups: PeerLookup[] = []
    transport.onPeerLookup((lookup) => lookups.push(lookup))
    const signal = new AbortController().signal
    let sequence = 0
    const attempt = () =>
      unreachable(transport.deliver(entryFor(peer, addrs, `m${++sequence}`), { signal }))

    await attempt()
    await attempt()
    await waitFor(() => lookups.length === 1, 10_000, 'the lookup')
    expect(lookups[0]).toMatchObject({ peer, failures: 2, result: 'failed' })
    expect(lookups[0]?.error?.name).toBe('NoPeerRoutersError')
    for (let index = 0; index < 4; index++) {
      await clock.advance(1_000)
      await attempt()
    }
    expect(transport.peerLookups).toMatchObject({ started: 1, failed: 1, inFlight: 0 })
    expect(lines.filter((line) => line.includes('no peer routing'))).toHaveLength(1)
    expect(lines.filter((line) => line.startsWith('error:'))).toHaveLength(1)

    // the receiver is back where it was: the next attempt delivers
    await receiver(key, received, port)
    await transport.deliver(entryFor(peer, addrs, 'back'), { signal })
    expect(received).toEqual(['back'])
    await transport.close()
  })
})

describe('the findPeer option', () => {
  const node = {
    peerStore: {},
    addEventListener() {},
    removeEventListener() {}
  } as never

  it('takes a boolean or { after, interval, timeout }; anything else is a TypeError naming it', () => {
    expect(() => libp2pTransport(node, { findPeer: false })).not.toThrow()
    expect(() => libp2pTransport(node, { findPeer: true })).not.toThrow()
    expect(() =>
      libp2pTransport(node, { findPeer: { after: 1, interval: 0, timeout: 1 } })
    ).not.toThrow()
    expect(() => libp2pTransport(node, { findPeer: { afterr: 5 } as never })).toThrow(
      new TypeError('findPeer: unknown option "afterr"')
    )
    expect(() => libp2pTransport(node, { findPeer: { after: 0 } })).toThrow(
      /findPeer.after must be an integer of at least 1, got 0/
    )
    expect(() => libp2pTransport(node, { findPeer: { interval: -1 } })).toThrow(TypeError)
    expect(() => libp2pTransport(node, { findPeer: { timeout: 1.5 } })).toThrow(TypeError)
    expect(() => libp2pTransport(node, { findPeer: 'yes' as never })).toThrow(
      /findPeer must be a boolean or/
    )
    // dnt() refuses it at the call, like an unknown option name
    expect(() => dnt({ findPeer: { intervall: 1 } as never })).toThrow(
      new TypeError('findPeer: unknown option "intervall"')
    )
    expect(() => dnt({ findPeer: { after: 3 } })).not.toThrow()
  })
})

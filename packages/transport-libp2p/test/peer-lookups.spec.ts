import { defaultLogger } from '@dntkit/core'
import { manualClock } from '@dntkit/core/testing'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { AbortOptions, Connection, PeerId, PeerInfo } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import type { PeerLookup } from '../src/find-peer.js'
import { type FindPeerSettings, findPeerSettings } from '../src/find-peer-options.js'
import type { Host } from '../src/host.js'
import { PeerLookups } from '../src/peer-lookups.js'

/** The dials and lookups of a node that is not there: every outcome is the test's to choose. */
interface FakeNode {
  host: Host
  /** What the next dial does: `ok`, or an error name to throw. */
  dials: string[]
  /** Calls of `findPeer`, with their signals. */
  lookups: AbortSignal[]
  /** What `findPeer` answers (default: never, whatever its signal). */
  answer: (peer: PeerId) => Promise<PeerInfo>
  known: string[]
  merged: string[][]
}

function fakeNode(): FakeNode {
  const fake: FakeNode = {
    dials: [],
    lookups: [],
    answer: () => new Promise<never>(() => {}),
    known: [],
    merged: [],
    host: {
      openStream: () => Promise.reject(new Error('not used')),
      async connect(_peer: PeerId, options: AbortOptions) {
        const outcome = fake.dials.shift() ?? 'ConnectionRefused'
        if (options.signal?.aborted === true) throw options.signal.reason
        if (outcome === 'ok') return {} as Connection
        const error = new Error(`dial failed: ${outcome}`)
        error.name = outcome
        throw error
      },
      peerStore: {
        get: async () => ({
          addresses: fake.known.map((address) => ({
            multiaddr: multiaddr(address),
            isCertified: false
          }))
        }),
        merge: async (_peer: PeerId, data: { multiaddrs?: Array<{ toString(): string }> }) => {
          fake.merged.push((data.multiaddrs ?? []).map(String))
        }
      } as never,
      events: {} as never,
      findPeer(peer, options) {
        if (options.signal != null) fake.lookups.push(options.signal)
        return fake.answer(peer)
      }
    }
  }
  return fake
}

async function setup(settings: FindPeerSettings | undefined) {
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const node = fakeNode()
  const clock = manualClock()
  const ended: PeerLookup[] = []
  const newFor: string[] = []
  const lookups = new PeerLookups(node.host, settings, clock, defaultLogger('test'), (peer) =>
    newFor.push(peer)
  )
  lookups.onLookup((lookup) => ended.push(lookup))
  const host = lookups.observe(node.host)
  /** One dial to the peer; resolves whatever its outcome. */
  const dial = (signal = new AbortController().signal) =>
    host.connect(peerId, { signal }).then(
      () => 'ok',
      (error: Error) => error.name
    )
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0))
  return { peerId, peer: peerId.toString(), node, clock, ended, newFor, lookups, dial, settle }
}

const every = (after: number, interval = 0, timeout = 30_000) => ({ after, interval, timeout })

describe('counting failed dials', () => {
  it('a dial that connects resets the count; an aborted dial and a gater denial count nothing', async () => {
    const { node, dial, lookups, settle } = await setup(every(3))
    node.dials.push('x', 'x', 'ok', 'x', 'x', 'DialDeniedError', 'TransportUnavailableError')
    for (let index = 0; index < 7; index++) await dial()
    const aborted = new AbortController()
    aborted.abort(new Error('the attempt timed out'))
    await dial(aborted.signal)
    expect(node.lookups).toHaveLength(0)
    expect(lookups.stats.started).toBe(0)
    await dial()
    await settle()
    expect(node.lookups).toHaveLength(1)
  })

  it('`findPeer: false` leaves the dials alone', async () => {
    const { node, lookups } = await setup(findPeerSettings(false))
    expect(lookups.observe(node.host)).toBe(node.host)
  })
})

describe('a lookup', () => {
  it('runs one at a time per peer; close() aborts it at once, reopen() allows the next', async () => {
    const { node, dial, ended, lookups, settle } = await setup(every(1))
    await dial()
    await dial()
    await dial()
    await settle()
    expect(node.lookups).toHaveLength(1)
    expect(lookups.stats).toMatchObject({ started: 1, inFlight: 1 })
    // the router never answers and ignores its signal: the lookup still ends on close
    lookups.close()
    await settle()
    expect(node.lookups[0]?.aborted).toBe(true)
    expect(ended).toMatchObject([{ failures: 1, result: 'aborted', addresses: [] }])
    expect(lookups.stats).toMatchObject({ started: 1, aborted: 1, inFlight: 0 })
    lookups.reopen()
    await dial()
    await settle()
    expect(node.lookups).toHaveLength(2)
  })

  it('that does not answer within its timeout fails, on the clock', async () => {
    const { node, dial, ended, clock, settle } = await setup(every(1, 60_000, 5_000))
    await dial()
    await clock.advance(4_999)
    expect(ended).toEqual([])
    await clock.advance(1)
    await settle()
    expect(ended).toHaveLength(1)
    expect(ended[0]?.result).toBe('failed')
    expect(ended[0]?.error?.message).toBe('the peer routing did not answer within 5000 ms')
    expect(node.lookups[0]?.aborted).toBe(true)
  })

  it("merges what it found into the peer store; only new addresses make the peer's next attempt due", async () => {
    const { node, dial, ended, newFor, peer, settle } = await setup(every(1))
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    node.known = ['/ip4/127.0.0.1/tcp/4001']
    node.answer = async (id) => ({
      id,
      multiaddrs: [
        multiaddr(`/ip4/127.0.0.1/tcp/4001/p2p/${id}`),
        multiaddr(`/ip4/127.0.0.1/tcp/4002/p2p/${id}`),
        multiaddr(`/ip4/127.0.0.1/tcp/4003/p2p/${other}`),
        multiaddr('/ip4/127.0.0.1/tcp/4004')
      ]
    })
    await dial()
    await settle()
    const addresses = [
      '/ip4/127.0.0.1/tcp/4001',
      '/ip4/127.0.0.1/tcp/4002',
      '/ip4/127.0.0.1/tcp/4004'
    ]
    expect(node.merged).toEqual([addresses])
    expect(ended).toEqual([
      {
        peer,
        failures: 1,
        result: 'found',
        addresses,
        newAddresses: ['/ip4/127.0.0.1/tcp/4002', '/ip4/127.0.0.1/tcp/4004']
      }
    ])
    expect(newFor).toEqual([peer])

    // the same answer again brings nothing new
    node.known = addresses
    await dial()
    await settle()
    expect(ended[1]).toMatchObject({ result: 'found', newAddresses: [] })
    expect(newFor).toEqual([peer])
  })
})

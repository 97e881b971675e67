/**
 * The libp2p transport (issue 5), over real libp2p nodes (TCP + noise +
 * yamux on 127.0.0.1):
 *
 * - drain throughput of a backlog of 256-byte messages to 1 peer and to 50
 *   peers: `raw` mode and `envelope` mode, each next to raw libp2p doing the
 *   same deliveries without dntkit (one stream per message, one message at a
 *   time per peer, every peer at once);
 * - reaction latency over receiver restarts: from the restarted receiver's
 *   connection opening to the first and to the last of 100 queued messages
 *   arriving, next to the `ocDiscoveryPreset`'s expected wait (half its 15 s
 *   interval: it does not react to connections).
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import {
  definePolicy,
  type Entry,
  memoryStore,
  Outbox,
  PeerUnreachableError,
  type Transport
} from '@dntkit/core'
import {
  type DeliveryMode,
  handleEnvelopes,
  type Libp2pTransport,
  libp2pTransport
} from '@dntkit/transport-libp2p'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import type { Libp2p, PrivateKey, Stream } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { gc } from '../common.js'
import type { BenchContext, Scenario, ScenarioResult } from '../types.js'

const RAW_PROTOCOL = '/dntkit-bench/raw/1.0.0'
const PAYLOAD_BYTES = 256
const TEN_MINUTES = 600_000
/** No timer retries during a measurement: only flushes and connections move messages. */
const policy = definePolicy({
  levels: {
    critical: { backoff: { type: 'fixed', interval: TEN_MINUTES } },
    moderate: { backoff: { type: 'fixed', interval: TEN_MINUTES } }
  }
})

/** The Go original's fixed 15 s ticker: a peer coming back waits half an interval on average. */
const OC_DISCOVERY_EXPECTED_WAIT_MS = 15_000 / 2

async function keyFor(index: number): Promise<PrivateKey> {
  const seed = new Uint8Array(32).fill(index & 0xff)
  seed[0] = 0xbe
  seed[1] = index >> 8
  return generateKeyPairFromSeed('Ed25519', seed)
}

async function node(privateKey?: PrivateKey, port = 0): Promise<Libp2p> {
  return createLibp2p({
    ...(privateKey == null ? {} : { privateKey }),
    addresses: { listen: [`/ip4/127.0.0.1/tcp/${port}`] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // every peer dials from 127.0.0.1, several times a second in the restart rounds
    connectionManager: {
      maxConnections: 1_000,
      inboundConnectionThreshold: 1_000,
      maxIncomingPendingConnections: 100
    }
  })
}

/** Counts what a receiver got, by mode. */
interface Counter {
  raw: number
  envelope: number
}

/** A receiver serving both modes: a plain handler for raw, `handleEnvelopes` for envelope. */
async function receiver(counter: Counter, key?: PrivateKey, port?: number, onMessage?: () => void) {
  const receiving = await node(key, port)
  await receiving.handle(
    RAW_PROTOCOL,
    async (stream: Stream) => {
      for await (const _chunk of stream) {
        // the payload is read and dropped
      }
      counter.raw++
      onMessage?.()
      await stream.close()
    },
    { maxInboundStreams: 1_024 }
  )
  await handleEnvelopes(receiving, {
    handlers: {
      [RAW_PROTOCOL]: () => {
        counter.envelope++
        onMessage?.()
      }
    }
  })
  return receiving
}

/** A transport that refuses everything until opened: fills a backlog without a receiver going down. */
function gated(inner: Transport): Transport & { open: boolean } {
  return {
    open: false,
    deliver(entry: Entry, options) {
      if (!this.open) return Promise.reject(new PeerUnreachableError(`${entry.peer}: gate closed`))
      return inner.deliver(entry, options)
    }
  }
}

function payload(): Uint8Array {
  return new Uint8Array(PAYLOAD_BYTES).fill(7)
}

/** Raw libp2p without dntkit: one stream per message, one at a time per peer, all peers at once. */
async function rawLibp2p(sender: Libp2p, peers: Libp2p[], perPeer: number): Promise<number> {
  const started = performance.now()
  await Promise.all(
    peers.map(async (peer) => {
      for (let index = 0; index < perPeer; index++) {
        const stream = await sender.dialProtocol(peer.peerId, RAW_PROTOCOL)
        stream.send(payload())
        await stream.close()
        for await (const _chunk of stream) {
          // until the receiver closed its side
        }
      }
    })
  )
  return performance.now() - started
}

/** Queues `perPeer` messages for every peer behind a closed gate, then times the drain. */
async function drain(
  sender: Libp2p,
  peers: Libp2p[],
  perPeer: number,
  mode: DeliveryMode
): Promise<number> {
  const transport: Libp2pTransport = libp2pTransport(sender, { mode })
  const gate = gated(transport)
  const outbox = new Outbox({
    transport: gate,
    store: memoryStore(),
    policy,
    concurrency: peers.length,
    perPeerConcurrency: mode === 'envelope' ? 64 : 1
  })
  await outbox.start()
  const sends: Promise<unknown>[] = []
  for (let index = 0; index < perPeer; index++) {
    for (const peer of peers) {
      sends.push(
        outbox.send({ peer: peer.peerId.toString(), protocol: RAW_PROTOCOL, payload: payload() })
      )
    }
    if (sends.length >= 4_096) await Promise.all(sends.splice(0))
  }
  await Promise.all(sends)
  if (outbox.size !== perPeer * peers.length)
    throw new Error(`expected a full backlog, have ${outbox.size}`)
  gate.open = true
  const started = performance.now()
  await outbox.flush()
  await outbox.whenDrained()
  const elapsed = performance.now() - started
  await outbox.stop()
  await transport.close()
  return elapsed
}

async function throughput(
  context: BenchContext,
  peerCount: number,
  total: number
): Promise<ScenarioResult[]> {
  const counter: Counter = { raw: 0, envelope: 0 }
  const sender = await node()
  const peers = await Promise.all(Array.from({ length: peerCount }, () => receiver(counter)))
  try {
    await Promise.all(peers.map((peer) => sender.dial(peer.getMultiaddrs())))
    const perPeer = Math.ceil(total / peerCount)
    const count = perPeer * peerCount
    // warm-up: connections, JIT
    await rawLibp2p(sender, peers, 20)
    await drain(sender, peers, 20, 'raw')
    await drain(sender, peers, 20, 'envelope')
    counter.raw = 0
    counter.envelope = 0

    // each side twice, in mirrored order (A B C C B A), so that drift and GC hit all alike
    const elapsed = { baseline: 0, raw: 0, envelope: 0 }
    const runs = {
      baseline: () => rawLibp2p(sender, peers, perPeer),
      raw: () => drain(sender, peers, perPeer, 'raw'),
      envelope: () => drain(sender, peers, perPeer, 'envelope')
    }
    const order = ['baseline', 'raw', 'envelope'] as const
    for (const name of [...order, ...[...order].reverse()]) {
      gc()
      elapsed[name] += await runs[name]()
    }
    if (counter.raw !== 4 * count || counter.envelope !== 2 * count) {
      throw new Error(
        `receivers counted raw ${counter.raw}/${4 * count}, envelope ${counter.envelope}/${2 * count}`
      )
    }
    const baselineMs = elapsed.baseline / 2
    const rawMs = elapsed.raw / 2
    const envelopeMs = elapsed.envelope / 2
    const rate = (ms: number): number => Math.round(count / (ms / 1000))
    const baseline = { name: 'raw libp2p, no dntkit', value: rate(baselineMs) }
    const label = `${count.toLocaleString('en-US')} x ${PAYLOAD_BYTES} B to ${peerCount} peer${peerCount > 1 ? 's' : ''}`
    context.log(
      `${label}: raw libp2p ${baseline.value}/s, raw mode ${rate(rawMs)}/s, envelope mode ${rate(envelopeMs)}/s`
    )
    return [
      {
        name: `drain ${label}, raw mode`,
        metric: 'throughput',
        unit: 'msg/s',
        value: rate(rawMs),
        baseline,
        ratio: rate(rawMs) / baseline.value,
        goal: '>= 0.8x raw libp2p',
        met: rate(rawMs) >= 0.8 * baseline.value
      },
      {
        name: `drain ${label}, envelope mode`,
        metric: 'throughput',
        unit: 'msg/s',
        value: rate(envelopeMs),
        baseline,
        ratio: rate(envelopeMs) / baseline.value,
        goal: '>= 5x raw libp2p',
        met: rate(envelopeMs) >= 5 * baseline.value
      }
    ]
  } finally {
    await Promise.all([sender, ...peers].map((each) => each.stop()))
  }
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)
  return sorted[Math.max(0, index)] as number
}

/**
 * A receiver goes down, 100 messages queue for it (envelope mode, the `dnt`
 * defaults: flush on reachable), it comes back on the same port with the same
 * key and dials the sender. Measured from its `connection:open`.
 */
async function reaction(
  context: BenchContext,
  restarts: number,
  queued: number
): Promise<ScenarioResult[]> {
  const key = await keyFor(1)
  const once = await node(key)
  const port = Number(
    once
      .getMultiaddrs()[0]
      ?.getComponents()
      .find((part) => part.name === 'tcp')?.value
  )
  const target = {
    peer: once.peerId.toString(),
    addrs: once.getMultiaddrs().map(String),
    protocol: RAW_PROTOCOL
  }
  await once.stop()

  const sender = await node()
  const transport = libp2pTransport(sender, { mode: 'envelope' })
  const outbox = new Outbox({ transport, store: memoryStore(), policy, perPeerConcurrency: 64 })
  await outbox.start()
  const first: number[] = []
  const all: number[] = []
  try {
    for (let round = 0; round < restarts; round++) {
      // the receiver is down: the messages queue
      for (let index = 0; index < queued; index++) {
        const result = await outbox.send({ ...target, payload: payload() })
        if (result.status !== 'queued') throw new Error(`expected queued, got ${result.status}`)
      }
      const counter: Counter = { raw: 0, envelope: 0 }
      let openedAt = 0
      let firstAt = 0
      let arrived!: () => void
      const allArrived = new Promise<void>((resolve) => {
        arrived = resolve
      })
      const back = await receiver(counter, key, port, () => {
        if (counter.envelope === 1) firstAt = performance.now()
        if (counter.envelope === queued) arrived()
      })
      back.addEventListener('connection:open', () => {
        openedAt ||= performance.now()
      })
      await back.dial(sender.getMultiaddrs())
      let timer: ReturnType<typeof setTimeout> | undefined
      await Promise.race([
        allArrived,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`round ${round}: ${counter.envelope} of ${queued} arrived`)),
            10_000
          )
        })
      ]).finally(() => clearTimeout(timer))
      const allAt = performance.now()
      await outbox.whenDrained()
      await back.stop()
      first.push(firstAt - openedAt)
      all.push(allAt - openedAt)
    }
  } finally {
    await outbox.stop()
    await transport.close()
    await sender.stop()
  }
  const ms = (value: number): number => Math.round(value * 10) / 10
  const baseline = {
    name: 'ocDiscoveryPreset expected wait (15 s interval)',
    value: OC_DISCOVERY_EXPECTED_WAIT_MS
  }
  context.log(`reaction over ${restarts} restarts: first ${first.map(ms).join(', ')} ms`)
  const row = (name: string, values: number[], fraction: number, goal?: number): ScenarioResult => {
    const value = ms(percentile(values, fraction))
    return {
      name: `reaction over ${restarts} restarts, ${name}`,
      metric: 'latency',
      unit: 'ms',
      value,
      baseline,
      ratio: value / baseline.value,
      ...(goal == null
        ? { goal: 'lower is better' }
        : { goal: `p99 < ${goal} ms`, met: value < goal })
    }
  }
  return [
    row('first message p50', first, 0.5),
    row('first message p99', first, 0.99, 50),
    row(`all ${queued} p50`, all, 0.5),
    row(`all ${queued} p99`, all, 0.99)
  ]
}

const scenario: Scenario = {
  name: 'transport',
  async run(context) {
    const total = context.quick ? 500 : 20_000
    const results: ScenarioResult[] = []
    results.push(...(await throughput(context, 1, total)))
    results.push(...(await throughput(context, context.quick ? 5 : 50, total)))
    results.push(...(await reaction(context, context.quick ? 3 : 20, 100)))
    return results
  }
}

export default scenario

/**
 * One sender with a large backlog. `{"queue": true}`: a paused Outbox on a
 * file store accepts `perPeer` messages for each peer (`<i>/<seq>`, 256
 * bytes) and stops, so they are all in the store. `{"deliver": true}`: a new
 * Outbox opens that store and delivers (envelope mode); it reports
 * `{"loaded": n, "openedIn": ms}` once the store is loaded, then
 * `{"peerDone": i, "at": ms}` as each peer's last message is delivered and
 * `{"drained": ms}` when nothing is left (ms since loaded), then exits.
 */
import { definePolicy, Outbox, type Store } from '@dntkit/core'
import { fileStore } from '@dntkit/store-file'
import { libp2pTransport } from '@dntkit/transport-libp2p'
import { identityFor } from '../identity.js'
import { createChaosNode } from '../node.js'
import { actorOptions, onCommand, report } from './args.js'

export interface BulkSenderOptions {
  name: string
  storeDirectory: string
  /** Receivers, by index: peer id and address. */
  peers: Array<{ index: number; peer: string; addrs: string[] }>
  perPeer: number
  protocol: string
  retryInterval: number
  attemptTimeout: number
}

const options = actorOptions<BulkSenderOptions>()
const identity = identityFor(options.name)
const policy = definePolicy({
  levels: { critical: { backoff: { type: 'fixed', interval: options.retryInterval } } }
})
const store = (): Store =>
  fileStore({ directory: options.storeDirectory, privateKey: identity.raw, compaction: false })

async function queue(): Promise<void> {
  const never = { deliver: async () => {} }
  const outbox = new Outbox({ transport: never, store: store(), policy, paused: true })
  await outbox.start()
  const filler = 'x'.repeat(240)
  const sends: Array<Promise<unknown>> = []
  for (let sequence = 0; sequence < options.perPeer; sequence++) {
    for (const { index, peer, addrs } of options.peers) {
      const payload = new TextEncoder().encode(`${index}/${sequence}/${filler}`.slice(0, 256))
      sends.push(outbox.send({ peer, addrs, protocol: options.protocol, payload }))
    }
  }
  await Promise.all(sends)
  const queued = outbox.size
  await outbox.stop()
  report({ queued })
}

async function deliver(): Promise<void> {
  const node = await createChaosNode(identity.privateKey)
  const transport = libp2pTransport(node, { mode: 'envelope' })
  const outbox = new Outbox({
    transport,
    store: store(),
    policy,
    perPeerConcurrency: 64,
    attemptTimeout: options.attemptTimeout
  })
  const indexOf = new Map(options.peers.map(({ index, peer }) => [peer, index]))
  const left = new Map(options.peers.map(({ peer }) => [peer, options.perPeer]))
  let started = 0
  outbox.addEventListener('delivered', (event) => {
    const peer = event.detail.entry.peer
    const remaining = (left.get(peer) ?? 0) - 1
    left.set(peer, remaining)
    if (remaining === 0) report({ peerDone: indexOf.get(peer), at: Date.now() - started })
  })
  const opening = Date.now()
  started = opening
  await outbox.start()
  // times are counted from here: the store is loaded, delivery has begun
  started = Date.now()
  report({ loaded: outbox.size, openedIn: started - opening })
  await outbox.whenDrained()
  report({ drained: Date.now() - started })
  await outbox.stop()
  await transport.close()
  await node.stop()
  process.exit(0)
}

onCommand((command) => {
  const run = command.queue === true ? queue() : command.deliver === true ? deliver() : undefined
  run?.catch((error: unknown) => {
    report({ error: String((error as Error)?.stack ?? error) })
    process.exit(1)
  })
})
report({ ready: true })

/**
 * A receiver: raw and/or envelope handlers for the chaos protocol, each
 * message appended to a JSONL file (and fdatasync'ed before the ack) as
 * `{"mode", "id"?, "from", "data"}`. Envelope dedupe can live in a file
 * store, so it survives restarts. With `flap`, the node listens behind a
 * proxy on `port` that cuts the network (listener closed, every connection
 * reset) for `down` ms after each `up` ms, until told `{"steady": true}`;
 * `{"cycles": n}` is answered `{"cycled": n}` once that happened n times.
 * Prints `{"ready": multiaddr}` once listening; SIGTERM stops it cleanly.
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs'
import type { Store } from '@dntkit/core'
import { fileStore } from '@dntkit/store-file'
import { handleEnvelopes } from '@dntkit/transport-libp2p'
import type { Libp2p, Stream } from '@libp2p/interface'
import { flappingProxy } from '../flapping-proxy.js'
import { identityFor } from '../identity.js'
import { addressOf, createChaosNode } from '../node.js'
import { freePort } from '../ports.js'
import { actorOptions, onCommand, report, sleep } from './args.js'

export interface ReceiverOptions {
  /** Identity name (see identityFor). */
  name: string
  port: number
  out: string
  protocols: string[]
  raw: boolean
  envelope: boolean
  /** Directory of a file store keeping the dedupe window across restarts. */
  dedupeDirectory?: string
  /** fdatasync each line before the ack (default true). */
  sync?: boolean
  /** ms each handler waits before recording (slows a drain down). */
  delay?: number
  /** Flap: the node sits behind a proxy that cuts the network for `down` ms every `up + down`. */
  flap?: { up: number; down: number }
}

const options = actorOptions<ReceiverOptions>()
const identity = identityFor(options.name)
const descriptor = openSync(options.out, 'a', 0o600)
const sync = options.sync !== false

function record(line: Record<string, unknown>): void {
  writeSync(descriptor, `${JSON.stringify(line)}\n`)
  if (sync) fdatasyncSync(descriptor)
}

const dedupeStore: Store | undefined =
  options.dedupeDirectory === undefined
    ? undefined
    : fileStore({ directory: options.dedupeDirectory, privateKey: identity.raw })

async function readAll(stream: Stream): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of stream) chunks.push(chunk.subarray())
  return Buffer.concat(chunks)
}

async function up(
  port: number,
  announcePort?: number
): Promise<{ node: Libp2p; stop: () => Promise<void> }> {
  // handlers first, then listen: a sender that connects in between would be told the protocol
  // is not supported, which it takes as a final refusal
  const node = await createChaosNode(identity.privateKey, port, announcePort, false)
  if (options.raw) {
    for (const protocol of options.protocols) {
      await node.handle(protocol, async (stream, connection) => {
        try {
          const payload = await readAll(stream)
          // the read loop also ends without an error when the sender died mid-write or the
          // connection broke (the stream then looks closed): only a stream the sender closed,
          // on a connection still open, is a whole message
          if (
            stream.status !== 'open' ||
            stream.remoteWriteStatus !== 'closed' ||
            connection.status !== 'open'
          ) {
            stream.abort(new Error(`raw stream ended ${stream.status}, not closed by the sender`))
            return
          }
          if (options.delay) await sleep(options.delay)
          record({
            mode: 'raw',
            from: connection.remotePeer.toString(),
            data: Buffer.from(payload).toString('utf8')
          })
          await stream.close()
        } catch (error) {
          stream.abort(error as Error)
        }
      })
    }
  }
  let unhandle: (() => Promise<void>) | undefined
  if (options.envelope) {
    const handlers = Object.fromEntries(
      options.protocols.map((protocol) => [
        protocol,
        async (message: { id: string; payload: Uint8Array }, from: string) => {
          if (options.delay) await sleep(options.delay)
          record({
            mode: 'envelope',
            id: message.id,
            from,
            data: Buffer.from(message.payload).toString('utf8')
          })
        }
      ])
    )
    unhandle = await handleEnvelopes(node, {
      handlers,
      ...(dedupeStore === undefined ? {} : { dedupe: { store: dedupeStore } })
    })
  }
  await node.start()
  return {
    node,
    stop: async () => {
      // the reverse: nothing listens or stays connected any more, then the handlers go (running
      // envelope handlers finish, the dedupe store closes); an unacked message is sent again
      await node.stop()
      await unhandle?.()
    }
  }
}

let stopping = false
let current: { stop: () => Promise<void> } | undefined

if (options.flap === undefined) {
  current = await up(options.port)
  report({ ready: addressOf(options.port, identity.peerId) })
} else {
  // one node behind a proxy that cuts the network: up `flap.up` ms, down `flap.down` ms
  const { up: upTime, down: downTime } = options.flap
  const inner = await freePort()
  current = await up(inner, options.port)
  const proxy = flappingProxy(options.port, inner)
  await proxy.up()
  report({ ready: addressOf(options.port, identity.peerId) })
  let cycles = 1
  let steady = false
  const cycleWaiters: Array<{ count: number; answer: () => void }> = []
  const answerCycles = (): void => {
    for (const waiter of [...cycleWaiters]) {
      if (cycles < waiter.count) continue
      cycleWaiters.splice(cycleWaiters.indexOf(waiter), 1)
      waiter.answer()
    }
  }
  const flapping = (async () => {
    while (!steady && !stopping) {
      await sleep(upTime)
      if (steady || stopping) break
      await proxy.down()
      await sleep(downTime)
      await proxy.up()
      cycles++
      answerCycles()
    }
  })()
  onCommand((command) => {
    // {"cycles": n}: answer {"cycled": n} once the network to it was cut and back n times
    if (typeof command.cycles === 'number') {
      const count = command.cycles
      cycleWaiters.push({ count, answer: () => report({ cycled: cycles }) })
      answerCycles()
    }
    // {"steady": true}: stop flapping and stay up
    if (command.steady !== true) return
    steady = true
    void flapping.then(() => report({ steady: true, cycles, resets: proxy.resets }))
  })
}

process.on('SIGTERM', () => {
  stopping = true
  void (async () => {
    await current?.stop()
    closeSync(descriptor)
    process.exit(0)
  })()
})

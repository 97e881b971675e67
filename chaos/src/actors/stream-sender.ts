/**
 * Senders with a steady stream, several in one process: each has its own
 * identity, libp2p node, file store and Outbox, and sends `<name>/<sequence>`
 * to one peer at its `rate` (messages a second) until told `{"stop": true}`
 * (the test decides by counting, never by time). Reports `{"sent": [...]}`
 * with what each send resolved to and `streamedFor` (ms), then waits for
 * `{"drain": true}` and reports `{"drained": [...]}` (with the process's
 * memory samples) once nothing is queued, or after `drainTimeout`.
 */
import { definePolicy, describeError, Outbox } from '@dntkit/core'
import { fileStore } from '@dntkit/store-file'
import { libp2pTransport } from '@dntkit/transport-libp2p'
import { identityFor } from '../identity.js'
import { memorySampler } from '../memory.js'
import { createChaosNode } from '../node.js'
import { actorOptions, onCommand, report, sleep } from './args.js'

export interface StreamSenderOptions {
  senders: Array<{ name: string; mode: 'raw' | 'envelope'; storeDirectory: string; rate: number }>
  peer: string
  addrs: string[]
  protocol: string
  /** ms between two retries of a peer that failed. */
  retryInterval: number
  drainTimeout: number
}

const options = actorOptions<StreamSenderOptions>()
const policy = definePolicy({
  levels: { critical: { backoff: { type: 'fixed', interval: options.retryInterval } } }
})

async function startSender(init: StreamSenderOptions['senders'][number]) {
  const identity = identityFor(init.name)
  const node = await createChaosNode(identity.privateKey)
  const transport = libp2pTransport(node, { mode: init.mode })
  const outbox = new Outbox({
    transport,
    store: fileStore({ directory: init.storeDirectory, privateKey: identity.raw }),
    policy,
    // raw mode keeps FIFO only one delivery at a time; envelope mode pipelines in order
    perPeerConcurrency: init.mode === 'envelope' ? 16 : 1,
    attemptTimeout: 5_000
  })
  let storeErrors = 0
  outbox.addEventListener('store-error', () => {
    storeErrors++
  })
  await outbox.start()
  return {
    outbox,
    storeErrors: () => storeErrors,
    stop: async () => {
      await outbox.stop()
      await transport.close()
      await node.stop()
    }
  }
}

let stopRequested = false

/** Sends at `rate` until `{"stop": true}`; resolves with what each send resolved to. */
async function stream(init: StreamSenderOptions['senders'][number], outbox: Outbox) {
  const outcomes: Record<string, number> = {}
  const errors: string[] = []
  const accepted: number[] = []
  const pending: Array<Promise<void>> = []
  const started = Date.now()
  let sequence = 0
  while (!stopRequested) {
    const due = Math.floor(((Date.now() - started) / 1000) * init.rate)
    while (sequence < due) {
      const current = sequence++
      const payload = new TextEncoder().encode(`${init.name}/${current}`)
      pending.push(
        outbox
          .send({ peer: options.peer, addrs: options.addrs, protocol: options.protocol, payload })
          .then(
            (result) => {
              outcomes[result.status] = (outcomes[result.status] ?? 0) + 1
              accepted.push(current)
            },
            (error: unknown) => {
              outcomes.error = (outcomes.error ?? 0) + 1
              if (errors.length < 5) errors.push(describeError(error))
            }
          )
      )
    }
    await sleep(1000 / init.rate)
  }
  await Promise.all(pending)
  accepted.sort((a, b) => a - b)
  return { name: init.name, sent: sequence, outcomes, errors, accepted }
}

const senders = await Promise.all(options.senders.map(startSender))
const memory = memorySampler(1_000, () =>
  senders.reduce((sum, sender) => sum + sender.outbox.size, 0)
)
onCommand((command) => {
  if (command.stop === true) stopRequested = true
  if (command.drain !== true) return
  void (async () => {
    const drained = await Promise.all(
      senders.map(async (sender) => {
        const done = await Promise.race([
          sender.outbox.whenDrained().then(() => true),
          sleep(options.drainTimeout).then(() => false)
        ])
        return { done, left: sender.outbox.size, storeErrors: sender.storeErrors() }
      })
    )
    memory.stop()
    await Promise.all(senders.map((sender) => sender.stop()))
    report({ drained, memory: memory.samples })
    process.exit(0)
  })()
})

report({ ready: true })
const streaming = Date.now()
const sent = await Promise.all(
  options.senders.map((init, index) => stream(init, senders[index]!.outbox))
)
report({ sent, streamedFor: Date.now() - streaming })

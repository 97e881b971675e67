/**
 * The receiving service under killed senders. Three `dnt flush --wait` processes stream
 * envelope messages to a node whose `dntReceiver()` service keeps its dedupe window in a
 * file store. Each sender is SIGKILLed after the receiver handled a seeded number of its
 * messages; the last one while the receiver's handler is stuck on one of its messages; the
 * receiving node is then stopped at once. `node.stop()` resolves (the receiver resets what
 * is still busy after its `stopTimeout`; the test's own timeout only bounds a hang). After a
 * restart of the receiver and the senders, every message was handled exactly once and
 * nothing is left queued. Every step waits for a count or an exit, never for time.
 */
import { writeFileSync } from 'node:fs'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { fileStore } from '@dntkit/store-file'
import { dntReceiver, type EnvelopeMessage } from '@dntkit/transport-libp2p'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { afterAll, afterEach, expect, it } from 'vitest'
import { type Child, killAll, runDnt, startDnt } from '../src/child.js'
import { PROTOCOL } from '../src/constants.js'
import { type Identity, identityFor } from '../src/identity.js'
import { addressOf } from '../src/node.js'
import { freePort } from '../src/ports.js'
import { runSeed, seededRandom, type Workspace, workspace } from '../src/temporary.js'

const SENDERS = 3
const MESSAGES = 120
const spaces: Workspace[] = []
afterEach(killAll)
afterAll(() => {
  for (const space of spaces) space.remove()
})

/** What the receiving application saw: each completed handler call, per sender. */
interface Application {
  handled: Map<string, string[]>
  /** Set to hold every later handler call forever (a handler that hangs). */
  stuck: boolean
  stuckCalls: number
  /** Called after every completed handler call. */
  onHandled?: () => void
  onStuck?: () => void
}

async function startReceiver(
  receiver: Identity,
  port: number,
  dedupeDirectory: string,
  application: Application
) {
  const handler = async (message: EnvelopeMessage, from: string): Promise<void> => {
    if (application.stuck) {
      application.stuckCalls++
      application.onStuck?.()
      return new Promise<void>(() => {})
    }
    const list = application.handled.get(from) ?? []
    list.push(message.id)
    application.handled.set(from, list)
    application.onHandled?.()
  }
  return createLibp2p({
    privateKey: receiver.privateKey,
    addresses: { listen: [addressOf(port)] },
    connectionManager: { inboundConnectionThreshold: 1_000 },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      receiver: dntReceiver({
        handlers: { [PROTOCOL]: handler },
        dedupe: { store: fileStore({ directory: dedupeDirectory }) },
        stopTimeout: 1_000
      })
    }
  })
}

/** Resolves once `check()` holds, re-checked after every handled message. */
function until(application: Application, check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const previous = application.onHandled
    const test = (): void => {
      if (!check()) return
      application.onHandled = previous
      resolve()
    }
    application.onHandled = () => {
      previous?.()
      test()
    }
    test()
  })
}

it(`SIGKILLed senders, then the receiving service stopped with a handler stuck: ${SENDERS} x ${MESSAGES} messages each handled once`, async () => {
  const seed = runSeed()
  const random = seededRandom(seed)
  console.log(`service-stop: seed ${seed} (CHAOS_SEED=${seed} replays the kill points)`)
  const space = workspace('service-stop')
  spaces.push(space)
  const receiver = identityFor('service-stop-receiver')
  const port = await freePort()
  const policy = space.at('policy.json')
  writeFileSync(
    policy,
    JSON.stringify({ levels: { critical: { backoff: { type: 'fixed', interval: 100 } } } })
  )
  const senders = Array.from({ length: SENDERS }, (_, index) => {
    const identity = identityFor(`service-stop-sender-${index}`)
    const ids = Array.from({ length: MESSAGES }, (_, n) => `s${index}-${n}`)
    return {
      identity,
      ids,
      key: space.keyFile(`sender-${index}.key`, identity),
      store: `file:${space.at(`outbox-${index}`)}`,
      // the receiver has handled this many of its messages when the sender is killed
      killAfter: 10 + Math.floor(random() * (MESSAGES / 2))
    }
  })

  // 1. everything queued while the receiver is down
  for (const [index, sender] of senders.entries()) {
    const file = space.at(`messages-${index}.jsonl`)
    writeFileSync(file, sender.ids.map((id) => JSON.stringify({ id, data: id })).join('\n'))
    const queued = await runDnt([
      'send',
      '--key',
      sender.key,
      '--store',
      sender.store,
      '--to',
      addressOf(port, receiver.peerId),
      '--protocol',
      PROTOCOL,
      '--mode',
      'envelope',
      '--jsonl',
      file
    ])
    expect(queued.code, queued.stderr).toBe(3)
  }

  // 2. the receiver up, the senders flushing; each killed after its count of handled messages
  const application: Application = { handled: new Map(), stuck: false, stuckCalls: 0 }
  const dedupe = space.at('dedupe')
  let node = await startReceiver(receiver, port, dedupe, application)
  const handledFrom = (sender: (typeof senders)[number]): number =>
    application.handled.get(sender.identity.peerId)?.length ?? 0
  const flush = (sender: (typeof senders)[number]): Child =>
    startDnt(
      ['flush', '--key', sender.key, '--store', sender.store, '--policy', policy, '--wait', '120'],
      { timeout: 150_000 }
    )
  const flushes = senders.map(flush)
  const last = senders.length - 1
  for (const [index, sender] of senders.entries()) {
    await until(application, () => handledFrom(sender) >= sender.killAfter)
    if (index === last) {
      // the last sender is killed while the receiver's handler hangs on one of its messages
      application.stuck = true
      await new Promise<void>((resolve) => {
        application.onStuck = resolve
        if (application.stuckCalls > 0) resolve()
      })
    }
    const exit = await (flushes[index] as Child).kill('SIGKILL')
    expect(exit.signal).toBe('SIGKILL')
  }

  // 3. the receiving node stops with a stuck handler and the killed senders' streams behind it
  await node.stop()
  expect(application.stuckCalls).toBeGreaterThan(0)

  // 4. receiver and senders again: everything arrives, each message handled once
  application.stuck = false
  node = await startReceiver(receiver, port, dedupe, application)
  try {
    const exits = await Promise.all(senders.map((sender) => flush(sender).exited))
    expect(exits.map((exit) => exit.code)).toEqual(senders.map(() => 0))
  } finally {
    await node.stop()
  }
  for (const sender of senders) {
    const handled = application.handled.get(sender.identity.peerId) ?? []
    expect(new Set(handled).size, `${sender.identity.peerId}: a message handled twice`).toBe(
      handled.length
    )
    expect([...handled].sort()).toEqual([...sender.ids].sort())
  }
  for (const sender of senders) {
    const inspected = await runDnt([
      'inspect',
      '--key',
      sender.key,
      '--store',
      sender.store,
      '--json'
    ])
    expect(inspected.code, inspected.stderr).toBe(0)
    expect(JSON.parse(inspected.stdout)).toEqual([])
  }
})

/**
 * 50 receivers (one process), 10 of them down at any moment (5 refusing
 * connections, 5 accepting and never answering, like a frozen process), and
 * one sender process with 1,000 queued messages per peer (50,000, envelope
 * mode, file store). With the 10 down peers' backlog queued too, the 40 up
 * peers get every message while the 10 are still down (checked by counting at
 * the farm, before any peer comes back): down peers do not hold up the others.
 * The time that takes, with and without the down peers' backlog (a sender that
 * only has the up peers' 40,000), is printed, not judged (a speed ratio is no
 * test on a shared machine; the bench measures such figures). Then down and up
 * peers swap, one pair at the start and each time a peer got its last message,
 * until everything is delivered, each message once.
 */
import { afterAll, afterEach, expect, it } from 'vitest'
import { type Child, killAll, startActor } from '../src/child.js'
import { FARM_DOWN, FARM_MESSAGES_PER_PEER, FARM_PEERS, PROTOCOL } from '../src/constants.js'
import { identityFor } from '../src/identity.js'
import { addressOf } from '../src/node.js'
import { freePorts } from '../src/ports.js'
import { runSeed, seededRandom, type Workspace, workspace } from '../src/temporary.js'

const spaces: Workspace[] = []
afterEach(killAll)
afterAll(() => {
  for (const space of spaces) space.remove()
})

const PREFIX = 'farm-peer'

interface PeerReport {
  received: number
  repeats: number
  strangers: number
}

/** Queues the backlog of `indexes` in a fresh store, then delivers it; resolves with the sender. */
async function sender(
  space: Workspace,
  label: string,
  ports: number[],
  indexes: number[]
): Promise<Child> {
  const child = startActor('bulk-sender', {
    name: `farm-sender-${label}`,
    storeDirectory: space.at(`outbox-${label}`),
    peers: indexes.map((index) => ({
      index,
      peer: identityFor(`${PREFIX}-${index}`).peerId,
      addrs: [addressOf(ports[index] as number)]
    })),
    perPeer: FARM_MESSAGES_PER_PEER,
    protocol: PROTOCOL,
    retryInterval: 200,
    attemptTimeout: 3_000
  })
  await child.next('ready', 30_000)
  const { queued } = await child.request<{ queued: number }>({ queue: true }, 'queued', 120_000)
  expect(queued).toBe(indexes.length * FARM_MESSAGES_PER_PEER)
  return child
}

/** Delivers, and resolves when every peer of `upPeers` got its last message (ms since start). */
async function drainUpPeers(child: Child, upPeers: number[]): Promise<number> {
  const waiting = new Set(upPeers)
  let finished = 0
  const done = new Promise<void>((resolve) => {
    const stop = child.onLine((line) => {
      if (!line.startsWith('{"peerDone"')) return
      const { peerDone, at } = JSON.parse(line) as { peerDone: number; at: number }
      waiting.delete(peerDone)
      finished = Math.max(finished, at)
      if (waiting.size === 0) {
        stop()
        resolve()
      }
    })
  })
  child.send(JSON.stringify({ deliver: true }))
  await Promise.race([
    done,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`up peers not drained: ${[...waiting]}`)), 120_000)
    )
  ])
  return finished
}

it(`delivers ${FARM_PEERS * FARM_MESSAGES_PER_PEER} messages to ${FARM_PEERS} peers, ${FARM_DOWN} down at any moment, without holding up the up ones`, async () => {
  const seed = runSeed()
  const random = seededRandom(seed)
  const space = workspace('farm')
  spaces.push(space)
  const ports = await freePorts(FARM_PEERS)
  const farm = startActor('peer-farm', { prefix: PREFIX, ports, protocol: PROTOCOL })
  await farm.next('ready', 60_000)
  const all = ports.map((_, index) => index)
  const down = all.slice(0, FARM_DOWN)
  const up = all.slice(FARM_DOWN)
  const half = Math.floor(FARM_DOWN / 2)
  await farm.request({ down: down.slice(0, half), how: 'refuse' }, 'done')
  await farm.request({ down: down.slice(half), how: 'hang' }, 'done')

  /** A sender with the backlog of `indexes`: ms to drain the `up` ones, checked at the farm. */
  const run = async (label: string, indexes: number[], upNow: number[]) => {
    await farm.request({ reset: true }, 'done')
    const child = await sender(space, label, ports, indexes)
    const time = await drainUpPeers(child, upNow)
    return { child, time }
  }
  const delivered = async (indexes: number[]): Promise<void> => {
    const { report } = await farm.request<{ report: PeerReport[] }>({ report: true }, 'report')
    for (const index of indexes) {
      const peer = report[index] as PeerReport
      expect(peer.received, `peer ${index}: every message`).toBe(FARM_MESSAGES_PER_PEER)
      expect(peer.strangers, `peer ${index}: only its own messages`).toBe(0)
    }
  }

  // baseline: the same sender with only the up peers' backlog
  const first = await run('alone-1', up, up)
  await first.child.next('drained', 60_000)
  expect((await first.child.exited).code).toBe(0)
  await delivered(up)

  // the same, with the down peers' backlog in the queue too: the up peers get all of theirs
  // while the down ones are still down
  const mixed = await run('mixed', all, up)
  await delivered(up)

  // then down and up peers swap until everything is delivered, driven by the sender's progress
  // (never a timer): at the start and each time a peer got its last message, a down peer that
  // still has a backlog comes up and another up peer (perhaps one still draining) goes down
  const isDown = new Set(down)
  const hanging = new Set(down.slice(half))
  const finished = new Set(up)
  let events = 0
  let wakeUp: (() => void) | undefined
  const event = (): void => {
    events++
    wakeUp?.()
  }
  const nextEvent = (): Promise<void> =>
    events > 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          wakeUp = resolve
        })
  const stopListening = mixed.child.onLine((line) => {
    if (!line.startsWith('{"peerDone"')) return
    finished.add((JSON.parse(line) as { peerDone: number }).peerDone)
    event()
  })
  let swaps = 0
  let drained: number | undefined
  void mixed.child.next<{ drained: number }>('drained', 300_000).then((report) => {
    drained = report.drained
    event()
  })
  for (;;) {
    events = 0
    if (drained !== undefined) break
    const backlog = [...isDown].filter((index) => !finished.has(index))
    if (backlog.length > 0) {
      const wake = backlog[Math.floor(random() * backlog.length)] as number
      const candidates = all.filter((index) => !isDown.has(index))
      const sleeper = candidates[Math.floor(random() * candidates.length)] as number
      const how = hanging.has(wake) ? 'hang' : 'refuse'
      await farm.request({ up: [wake] }, 'done')
      await farm.request({ down: [sleeper], how }, 'done')
      isDown.delete(wake)
      hanging.delete(wake)
      isDown.add(sleeper)
      if (how === 'hang') hanging.add(sleeper)
      swaps++
      expect(isDown.size).toBe(FARM_DOWN)
    }
    await nextEvent()
  }
  stopListening()
  // one swap at the start and at most one per peer that finished: progress, not time, drove them
  expect(swaps).toBeGreaterThanOrEqual(1)
  expect(swaps).toBeLessThanOrEqual(1 + FARM_PEERS)
  expect((await mixed.child.exited).code).toBe(0)
  await delivered(all)

  // the baseline again, on the peers up now (mirrored order: both sides see the same warm-up)
  const upNow = all.filter((index) => !isDown.has(index))
  const second = await run('alone-2', upNow, upNow)
  await second.child.next('drained', 60_000)
  expect((await second.child.exited).code).toBe(0)
  await delivered(upNow)

  const aloneTime = (first.time + second.time) / 2
  const ratio = mixed.time / aloneTime
  process.stderr.write(
    `[chaos farm] seed ${seed}: ${up.length} up peers x ${FARM_MESSAGES_PER_PEER} drained in ` +
      `${first.time} / ${second.time} ms alone, ${mixed.time} ms with ${FARM_DOWN} down peers' ` +
      `backlog queued too (ratio ${ratio.toFixed(2)}); all ${FARM_PEERS * FARM_MESSAGES_PER_PEER} ` +
      `delivered after ${drained} ms and ${swaps} swaps\n`
  )
})

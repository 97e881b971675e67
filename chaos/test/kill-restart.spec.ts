/**
 * 2,000 critical messages queued with the receivers down (1,000 raw to a
 * `dnt listen`, 1,000 envelope to a receiver whose dedupe window is a file
 * store), then `dnt flush --wait` SIGKILLed at least 20 times and restarted each
 * time (every third kill after a random number of further deliveries, the others a
 * random moment after the start), while both receivers are restarted too.
 * At the end: every raw message received at least once, every envelope
 * message handled exactly once, nothing left in the store.
 */
import { writeFileSync } from 'node:fs'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { type Child, killAll, runDnt, startActor, startDnt } from '../src/child.js'
import {
  KILL_AFTER_DELIVERIES,
  KILL_COUNT,
  KILL_DRAIN_EVERY,
  KILL_EARLY_WITHIN,
  KILL_MESSAGES,
  KILL_POLL,
  PROTOCOL,
  RECEIVER_DELAY,
  RECEIVER_RESTARTS
} from '../src/constants.js'
import { identityFor } from '../src/identity.js'
import { readReceived, verdict } from '../src/ledger.js'
import { addressOf } from '../src/node.js'
import { freePorts } from '../src/ports.js'
import { runSeed, seededRandom, type Workspace, workspace } from '../src/temporary.js'

const spaces: Workspace[] = []
afterEach(killAll)
afterAll(() => {
  for (const space of spaces) space.remove()
})

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds))
}

/** One receiver that can be brought down and up again on the same key and port. */
interface Restartable {
  up(): Promise<void>
  down(): Promise<void>
  /** Times it came back up after being down. */
  restarts: number
}

function restartable(
  start: () => Child,
  ready: RegExp,
  stream: 'stdout' | 'stderr',
  signal: 'SIGKILL' | 'SIGTERM'
): Restartable {
  let child: Child | undefined
  let started = false
  const handle: Restartable = {
    restarts: 0,
    async up() {
      if (child !== undefined) return
      if (started) handle.restarts++
      started = true
      child = start()
      await child.waitFor(ready, 20_000, stream)
    },
    async down() {
      if (child === undefined) return
      const exit = await child.kill(signal)
      child = undefined
      if (signal === 'SIGTERM') expect(exit.code, 'a receiver stopped by SIGTERM exits 0').toBe(0)
    }
  }
  return handle
}

describe.each(['file', 'level'] as const)('SIGKILLed dnt flush, %s store', (kind) => {
  it(`delivers ${KILL_MESSAGES} messages through ${KILL_COUNT}+ kills and receiver restarts`, async () => {
    const seed = runSeed()
    const random = seededRandom(seed)
    const space = workspace(`kill-${kind}`)
    spaces.push(space)
    const sender = identityFor(`kill-sender-${kind}`)
    const rawPeer = identityFor(`kill-raw-${kind}`)
    const envelopePeer = identityFor(`kill-envelope-${kind}`)
    const senderKey = space.keyFile('sender.key', sender)
    const rawKey = space.keyFile('raw.key', rawPeer)
    const [rawPort, envelopePort] = (await freePorts(2)) as [number, number]
    const store = `${kind}:${space.at('outbox')}`
    const policy = space.at('policy.json')
    writeFileSync(
      policy,
      JSON.stringify({ levels: { critical: { backoff: { type: 'fixed', interval: 100 } } } })
    )
    const half = KILL_MESSAGES / 2
    const rawPayloads = Array.from({ length: half }, (_, index) => `raw/${index}`)
    const envelopePayloads = Array.from({ length: half }, (_, index) => `envelope/${index}`)
    writeFileSync(
      space.at('raw.jsonl'),
      rawPayloads.map((data) => JSON.stringify({ data })).join('\n')
    )
    writeFileSync(
      space.at('envelope.jsonl'),
      envelopePayloads
        .map((data, index) => JSON.stringify({ data, id: `envelope-${index}` }))
        .join('\n')
    )

    // 1. queue everything while both receivers are down
    for (const [peer, port, file, mode] of [
      [rawPeer, rawPort, 'raw.jsonl', 'raw'],
      [envelopePeer, envelopePort, 'envelope.jsonl', 'envelope']
    ] as const) {
      const queued = await runDnt([
        'send',
        '--key',
        senderKey,
        '--store',
        store,
        '--to',
        addressOf(port, peer.peerId),
        '--protocol',
        PROTOCOL,
        '--jsonl',
        space.at(file),
        '--policy',
        policy,
        '--mode',
        mode,
        '--json'
      ])
      expect(queued.code, queued.stderr).toBe(3)
      expect(JSON.parse(queued.stdout).queued).toBe(half)
    }

    // 2. receivers: dnt listen (raw, SIGKILLed) and an envelope receiver with a file dedupe store (SIGTERM)
    const rawOut = space.at('raw-received.jsonl')
    const envelopeOut = space.at('envelope-received.jsonl')
    const rawReceiver = restartable(
      () =>
        startDnt([
          'listen',
          '--key',
          rawKey,
          '--listen',
          addressOf(rawPort),
          '--protocol',
          PROTOCOL,
          '--mode',
          'raw',
          '--jsonl',
          rawOut
        ]),
      /listening on/,
      'stderr',
      'SIGKILL'
    )
    const envelopeReceiver = restartable(
      () =>
        startActor('receiver', {
          name: `kill-envelope-${kind}`,
          port: envelopePort,
          out: envelopeOut,
          protocols: [PROTOCOL],
          raw: false,
          envelope: true,
          dedupeDirectory: space.at('dedupe'),
          delay: RECEIVER_DELAY
        }),
      /"ready"/,
      'stdout',
      'SIGTERM'
    )
    const received = (): number =>
      new Set([...readReceived(rawOut), ...readReceived(envelopeOut)].map((record) => record.data))
        .size

    // receivers go down and up at their own random rhythm until the kills are done
    let killing = true
    const rhythm = async (receiver: Restartable): Promise<void> => {
      while (killing) {
        await receiver.up()
        await sleep(400 + random() * 600)
        if (!killing) break
        await receiver.down()
        await sleep(150 + random() * 350)
      }
      await receiver.up()
    }
    const rhythms = Promise.all([rhythm(rawReceiver), rhythm(envelopeReceiver)])

    // 3. flush --wait, SIGKILLed at random points, restarted each time. Every
    // KILL_DRAIN_EVERY-th run is killed after a random number of further deliveries (counted
    // at the receivers, never timed), so those kills hit a drain in progress however fast the
    // machine is; the other runs are killed a random moment after their start (while they
    // open the store, recover it, dial, deliver), a kill point, not a check. The runs go on until there were
    // KILL_COUNT kills and both receivers restarted RECEIVER_RESTARTS times; once the kills
    // are done, the flushes run to their end.
    let kills = 0
    let killsMidDrain = 0
    let runs = 0
    const loopStarted = Date.now()
    let drainWaits = 0
    const goOn = (): boolean =>
      kills < KILL_COUNT ||
      rawReceiver.restarts < RECEIVER_RESTARTS ||
      envelopeReceiver.restarts < RECEIVER_RESTARTS
    while (goOn()) {
      runs++
      const flush = startDnt([
        'flush',
        '--key',
        senderKey,
        '--store',
        store,
        '--wait',
        '120',
        '--policy',
        policy
      ])
      let ended: Awaited<typeof flush.exited> | undefined
      void flush.exited.then((outcome) => {
        ended = outcome
      })
      const done = received()
      const left = KILL_MESSAGES - done
      const further =
        KILL_AFTER_DELIVERIES.min +
        Math.floor(random() * (KILL_AFTER_DELIVERIES.max - KILL_AFTER_DELIVERIES.min + 1))
      if (kills < KILL_COUNT && runs % KILL_DRAIN_EVERY === 0 && left > further) {
        const target = done + further
        const waitStarted = Date.now()
        while (ended === undefined && received() < target) await sleep(KILL_POLL)
        drainWaits += Date.now() - waitStarted
      } else if (kills < KILL_COUNT) {
        await Promise.race([flush.exited, sleep(random() * KILL_EARLY_WITHIN)])
      }
      if (ended === undefined && kills < KILL_COUNT) {
        const before = received()
        await flush.kill('SIGKILL')
        kills++
        if (runs % KILL_DRAIN_EVERY === 0 && before < KILL_MESSAGES) killsMidDrain++
        continue
      }
      // it ended by itself: everything delivered (0); anything else is a failure
      const outcome = ended ?? (await flush.exited)
      expect(outcome.code, flush.stderr()).toBe(0)
      if (kills < KILL_COUNT && received() >= KILL_MESSAGES) break // the checks below fail
    }
    const killLoop = Date.now() - loopStarted
    killing = false
    await rhythms
    const finalStarted = Date.now()

    // 4. a last flush with both receivers up must deliver what is left and exit 0
    const last = await runDnt(
      ['flush', '--key', senderKey, '--store', store, '--wait', '60', '--policy', policy, '--json'],
      { timeout: 90_000 }
    )
    expect(last.code, last.stderr).toBe(0)
    const stats = await runDnt(['stats', '--key', senderKey, '--store', store, '--json'])
    expect(stats.code, stats.stderr).toBe(0)
    expect(JSON.parse(stats.stdout).queued).toBe(0)
    const dead = await runDnt(['dead', '--key', senderKey, '--store', store, '--json'])
    const deadLetters = (JSON.parse(dead.stdout) as Array<Record<string, unknown>>).map(
      ({ peer, data, attempts, lastError, deadLetter }) =>
        `${peer === rawPeer.peerId ? 'raw' : 'envelope'} ${data} after ${attempts} attempts: ` +
        `${JSON.stringify(deadLetter)} ${lastError ?? ''}`
    )
    expect(deadLetters, 'nothing refused or abandoned').toEqual([])

    await rawReceiver.down()
    await envelopeReceiver.down()
    const raw = verdict(rawPayloads, readReceived(rawOut))
    const envelope = verdict(envelopePayloads, readReceived(envelopeOut))
    process.stderr.write(
      `[chaos kill ${kind}] seed ${seed}: ${runs} flush runs, ${kills} SIGKILLs (${killsMidDrain} mid-drain), ` +
        `receiver restarts raw ${rawReceiver.restarts} / envelope ${envelopeReceiver.restarts}, ` +
        `raw duplicates ${raw.duplicated.length}, envelope duplicates ${envelope.duplicated.length}; ` +
        `kill runs ${killLoop} ms (${drainWaits} ms waiting for deliveries), the rest ${Date.now() - finalStarted} ms\n`
    )
    expect(raw.missing, 'raw: received at least once').toEqual([])
    expect(
      raw.unexpected,
      'raw: records of messages never sent (a stream cut by a SIGKILL recorded as a message)'
    ).toEqual([])
    expect(envelope.missing, 'envelope: handled at least once').toEqual([])
    expect(envelope.duplicated, 'envelope: handled at most once').toEqual([])
    expect(envelope.unexpected, 'envelope: records of messages never sent').toEqual([])
    expect(kills).toBeGreaterThanOrEqual(KILL_COUNT)
    expect(killsMidDrain, 'SIGKILLs that hit a drain in progress').toBeGreaterThanOrEqual(
      Math.floor(KILL_COUNT / KILL_DRAIN_EVERY)
    )
    expect(rawReceiver.restarts).toBeGreaterThanOrEqual(RECEIVER_RESTARTS)
    expect(envelopeReceiver.restarts).toBeGreaterThanOrEqual(RECEIVER_RESTARTS)
  })
})

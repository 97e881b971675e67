/**
 * 2,000 critical messages queued with the receivers down (1,000 raw to a
 * `dnt listen`, 1,000 envelope to a receiver whose dedupe window is a file
 * store), then `dnt flush --wait` SIGKILLed exactly 20 times, restarted each
 * time: every third run as soon as its outbox started, the others after a
 * random number of further deliveries, counted at the receivers; in some of
 * those one receiver goes down halfway and comes back after the kill (4
 * restarts each). Nothing is timed. At the end: every raw message received at
 * least once, every envelope message handled exactly once, nothing left in
 * the store.
 */
import { type FSWatcher, watch, writeFileSync } from 'node:fs'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { type Child, killAll, runDnt, startActor, startDnt } from '../src/child.js'
import {
  KILL_AFTER_DELIVERIES,
  KILL_COUNT,
  KILL_DRAIN_EVERY,
  KILL_MESSAGES,
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
  it(`delivers ${KILL_MESSAGES} messages through exactly ${KILL_COUNT} kills and ${RECEIVER_RESTARTS} restarts of each receiver`, async () => {
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
    /** Resolves once the receivers have recorded `target` messages, or `ended` settled (watching their files, no timer). */
    const receivedAtLeast = (target: number, ended: Promise<unknown>): Promise<void> =>
      new Promise((resolve) => {
        let watcher: FSWatcher | undefined
        let finished = false
        const finish = (): void => {
          if (finished) return
          finished = true
          watcher?.close()
          resolve()
        }
        let scheduled = false
        const check = (): void => {
          scheduled = false
          if (received() >= target) finish()
        }
        watcher = watch(space.path, () => {
          if (!scheduled) {
            scheduled = true
            setImmediate(check)
          }
        })
        void ended.then(finish, finish)
        check()
      })

    // 3. The schedule, by counts only (never timed): KILL_COUNT runs of `dnt flush --wait`, each
    // SIGKILLed. Every KILL_DRAIN_EVERY-th run is killed as soon as its outbox reports it started
    // (the store opened and recovered, the peers about to be dialled); every other run is killed
    // after a random number of further deliveries counted at the receivers (a drain in progress),
    // and in some of those one receiver goes down halfway (raw SIGKILLed, envelope SIGTERMed) and
    // comes back after the kill, RECEIVER_RESTARTS times each. A run delivers at most its count
    // (plus what arrives while the kill lands), far fewer than are queued, so none can end by itself.
    const drainRuns = Array.from({ length: KILL_COUNT }, (_, run) => run).filter(
      (run) => run % KILL_DRAIN_EVERY !== KILL_DRAIN_EVERY - 1
    )
    const cycled = new Map<number, Restartable>()
    for (let slot = 1; slot <= 2 * RECEIVER_RESTARTS; slot++) {
      cycled.set(drainRuns[slot] as number, slot % 2 === 1 ? rawReceiver : envelopeReceiver)
    }
    expect(cycled.size, 'enough drain runs for every receiver restart').toBe(2 * RECEIVER_RESTARTS)
    await Promise.all([rawReceiver.up(), envelopeReceiver.up()])
    let kills = 0
    let killsMidDrain = 0
    const loopStarted = Date.now()
    for (let run = 0; run < KILL_COUNT; run++) {
      const flush = startDnt(
        ['flush', '--key', senderKey, '--store', store, '--wait', '120', '--policy', policy],
        { env: { DEBUG: 'dntkit:outbox' } }
      )
      let ended: Awaited<typeof flush.exited> | undefined
      void flush.exited.then((outcome) => {
        ended = outcome
      })
      const drain = run % KILL_DRAIN_EVERY !== KILL_DRAIN_EVERY - 1
      const receiver = cycled.get(run)
      if (!drain) {
        await flush.waitFor(/started: \d+ queued/, 60_000, 'stderr')
      } else {
        const further =
          KILL_AFTER_DELIVERIES.min +
          Math.floor(random() * (KILL_AFTER_DELIVERIES.max - KILL_AFTER_DELIVERIES.min + 1))
        const from = received()
        if (receiver !== undefined) {
          await receivedAtLeast(from + Math.ceil(further / 2), flush.exited)
          await receiver.down()
        }
        await receivedAtLeast(from + further, flush.exited)
      }
      expect(ended, `run ${run} ended before its SIGKILL: ${flush.stderr().slice(-2000)}`).toBe(
        undefined
      )
      await flush.kill('SIGKILL')
      kills++
      if (drain) killsMidDrain++
      await receiver?.up()
    }
    const killLoop = Date.now() - loopStarted
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
      `[chaos kill ${kind}] seed ${seed}: ${kills} SIGKILLs (${killsMidDrain} mid-drain), ` +
        `receiver restarts raw ${rawReceiver.restarts} / envelope ${envelopeReceiver.restarts}, ` +
        `raw duplicates ${raw.duplicated.length}, envelope duplicates ${envelope.duplicated.length}; ` +
        `kill runs ${killLoop} ms, the rest ${Date.now() - finalStarted} ms\n`
    )
    expect(raw.missing, 'raw: received at least once').toEqual([])
    expect(
      raw.unexpected,
      'raw: records of messages never sent (a stream cut by a SIGKILL recorded as a message)'
    ).toEqual([])
    expect(envelope.missing, 'envelope: handled at least once').toEqual([])
    expect(envelope.duplicated, 'envelope: handled at most once').toEqual([])
    expect(envelope.unexpected, 'envelope: records of messages never sent').toEqual([])
    expect(kills).toBe(KILL_COUNT)
    expect(killsMidDrain, 'SIGKILLs that hit a drain in progress').toBe(drainRuns.length)
    expect(rawReceiver.restarts).toBe(RECEIVER_RESTARTS)
    expect(envelopeReceiver.restarts).toBe(RECEIVER_RESTARTS)
  })
})

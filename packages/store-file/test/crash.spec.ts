import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { type Entry, encodeEntry } from '@dntkit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fileStore, type StoreWarning } from '../src/index.js'
import { assertDistIsFresh, fixturePath } from './dist.js'
import { expectedState } from './fixtures/batches.mjs'
import { random, type TemporaryDirectory, temporaryDirectory, testPrivateKey } from './fixtures.js'

const KILLS = 50
const SEED = Number(process.env.CRASH_SEED ?? 20_250_314)

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Runs the writer from batch `first` and kills it with SIGKILL: once it
 * acknowledged `acks` batches (counted, so the kill lands during the next
 * apply or compaction whatever the machine's speed), or, with `fromStart`,
 * `delay` ms after it was spawned (a kill point during start-up and recovery,
 * not a check). Returns the batches it acknowledged.
 */
async function runAndKill(
  directory: string,
  first: number,
  kill: { acks: number } | { fromStart: true; delay: number }
): Promise<number[]> {
  const child = spawn(
    process.execPath,
    [fixturePath('crash-writer.mjs'), directory, String(first)],
    {
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  let output = ''
  let errors = ''
  let acknowledged: () => void = () => {}
  const enough = new Promise<void>((resolve) => {
    acknowledged = resolve
  })
  const wanted = 'acks' in kill ? kill.acks : Number.POSITIVE_INFINITY
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk
    if (output.split('\n').filter((line) => /^\d+$/.test(line)).length >= wanted) acknowledged()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    errors += chunk
  })
  const closed = once(child, 'close')
  if ('acks' in kill) await Promise.race([enough, closed])
  else await Promise.race([sleep(kill.delay), closed])
  child.kill('SIGKILL')
  const [code, signal] = (await closed) as [number | null, string | null]
  if (signal !== 'SIGKILL') throw new Error(`writer ended by itself (code ${code}): ${errors}`)
  // only complete lines were acknowledged
  return output
    .split('\n')
    .slice(0, -1)
    .filter((line) => line !== 'open')
    .map((line) => Number(line))
}

function same(actual: Entry[], expected: Entry[]): boolean {
  return (
    actual.length === expected.length &&
    actual.every((entry, index) =>
      Buffer.from(encodeEntry(entry)).equals(Buffer.from(encodeEntry(expected[index] as Entry)))
    )
  )
}

describe('crash safety (SIGKILL)', () => {
  let directory: TemporaryDirectory

  beforeAll(async () => {
    await assertDistIsFresh()
    directory = await temporaryDirectory()
  })

  afterAll(() => directory.remove())

  it(`after each of ${KILLS} kills the store holds exactly the acknowledged batches (plus possibly the one in flight)`, {
    timeout: 60_000
  }, async () => {
    const location = join(directory.path, 'store')
    const state = expectedState()
    const next = random(SEED)
    let acknowledged = 0
    let inFlightKept = 0
    let killsAfterAcks = 0
    let countedKills = 0
    let acknowledgedAtLeast = 0
    const warnings: StoreWarning[] = []
    for (let kill = 0; kill < KILLS; kill++) {
      const first = state.last + 1
      // kills land anywhere: during start-up, opening (recovery), appends and compactions
      const fromStart = next() < 0.2
      const wanted = 1 + Math.floor(next() * 60)
      const acks = await runAndKill(
        location,
        first,
        fromStart ? { fromStart, delay: Math.floor(next() * 250) } : { acks: wanted }
      )
      if (!fromStart) {
        countedKills++
        acknowledgedAtLeast += wanted
        expect(acks.length, `kill ${kill}`).toBeGreaterThanOrEqual(wanted)
      }
      expect(acks, `kill ${kill}`).toEqual(acks.map((_, index) => first + index))
      acknowledged += acks.length
      if (acks.length > 0) killsAfterAcks++
      state.advanceTo(first + acks.length - 1)
      const store = fileStore({
        directory: location,
        privateKey: testPrivateKey(),
        onWarning: (warning) => warnings.push(warning)
      })
      const entries = await store.open()
      await store.close()
      if (!same(entries, state.entries())) {
        // the batch in flight when the kill came may have become durable
        state.advanceTo(state.last + 1)
        inFlightKept++
        expect(
          same(entries, state.entries()),
          `kill ${kill}: store differs from batches ${first}..${state.last - 1} (+1)`
        ).toBe(true)
      }
    }
    // no check depends on the machine's speed: the counted kills came after their acks
    expect(countedKills).toBeGreaterThanOrEqual(KILLS / 2)
    expect(killsAfterAcks).toBeGreaterThanOrEqual(countedKills)
    expect(acknowledged).toBeGreaterThanOrEqual(acknowledgedAtLeast)
    // every reopen after a counted kill took over the dead writer's lock
    expect(
      warnings.filter((warning) => warning.code === 'stale-lock').length
    ).toBeGreaterThanOrEqual(countedKills)
    // the writer compacted many times, so kills also hit compactions
    const generations = (await readdir(location))
      .filter((name) => name.startsWith('journal-'))
      .map((name) => Number.parseInt(name.slice(8, 24), 16))
    expect(Math.max(...generations)).toBeGreaterThan(10)
    process.stderr.write(
      `crash test: ${KILLS} kills, ${acknowledged} acknowledged batches, in-flight batch kept ${inFlightKept} times, ` +
        `${Math.max(...generations) - 1} compactions\n`
    )
  })
})

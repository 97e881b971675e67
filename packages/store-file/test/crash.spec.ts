import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Entry } from '@dntkit/core'
import { encodeEntry } from '@dntkit/core/plugin'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fileStore, type StoreWarning } from '../src/index.js'
import { assertDistIsFresh, fixturePath } from './dist.js'
import { expectedState } from './fixtures/batches.mjs'
import { random, type TemporaryDirectory, temporaryDirectory, testPrivateKey } from './fixtures.js'

const KILLS = 50
const SEED = Number(process.env.CRASH_SEED ?? 20_250_314)
/** The most acknowledgements a run waits for before its kill. */
const MAX_ACKS = 70

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** When a run's writer is killed: after it acknowledged `acks` batches, or `delay` ms after its spawn. */
type Kill = { acks: number } | { delay: number }

/**
 * Runs the writer from batch `first` and kills it with SIGKILL: once it has
 * acknowledged `kill.acks` batches (so the kill lands among its appends and
 * compactions, however fast or slow the machine), or `kill.delay` ms after
 * it was spawned (hitting start-up and recovery; nothing is asserted about
 * when those land). Returns the batches it acknowledged: at least
 * `kill.acks`, a few more when they were written before the signal landed.
 */
async function runAndKill(directory: string, first: number, kill: Kill): Promise<number[]> {
  const child = spawn(
    process.execPath,
    [fixturePath('crash-writer.mjs'), directory, String(first)],
    {
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  let output = ''
  let errors = ''
  let reached: () => void = () => {}
  const enough = new Promise<void>((resolve) => {
    reached = resolve
  })
  const acknowledged = (): number =>
    output.split('\n').filter((line) => line !== '' && line !== 'open').length
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk
    // a line counts once complete: a batch is acknowledged by its whole line
    if ('acks' in kill && acknowledged() >= kill.acks && output.endsWith('\n')) reached()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    errors += chunk
  })
  const closed = once(child, 'close')
  if ('acks' in kill) await Promise.race([enough, closed])
  else await sleep(kill.delay)
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
    timeout: 240_000
  }, async () => {
    const location = join(directory.path, 'store')
    const state = expectedState()
    const next = random(SEED)
    let acknowledged = 0
    let inFlightKept = 0
    let ackKills = 0
    let wanted = 0
    const warnings: StoreWarning[] = []
    for (let run = 0; run < KILLS; run++) {
      const first = state.last + 1
      // one run in five is killed at a random moment of its start-up (often while it
      // recovers), the others once they acknowledged 1 to MAX_ACKS batches
      const kill: Kill =
        next() < 0.2
          ? { delay: Math.floor(next() * 250) }
          : { acks: 1 + Math.floor(next() * MAX_ACKS) }
      const acks = await runAndKill(location, first, kill)
      expect(acks, `run ${run}`).toEqual(acks.map((_, index) => first + index))
      if ('acks' in kill) {
        expect(acks.length, `run ${run}`).toBeGreaterThanOrEqual(kill.acks)
        ackKills++
        wanted += kill.acks
      }
      acknowledged += acks.length
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
          `run ${run} (seed ${SEED}): store differs from batches ${first}..${state.last - 1} (+1)`
        ).toBe(true)
      }
    }
    // not vacuous, whatever the machine's speed: the counts follow from the kills chosen
    expect(acknowledged).toBeGreaterThanOrEqual(wanted)
    expect(wanted).toBeGreaterThan(1000)
    // every run killed after its acknowledgements held the lock: the next open took it over
    expect(
      warnings.filter((warning) => warning.code === 'stale-lock').length
    ).toBeGreaterThanOrEqual(ackKills)
    // the writer compacted many times, so kills also hit compactions
    const generations = (await readdir(location))
      .filter((name) => name.startsWith('journal-'))
      .map((name) => Number.parseInt(name.slice(8, 24), 16))
    expect(Math.max(...generations)).toBeGreaterThan(10)
    process.stderr.write(
      `crash test: ${KILLS} kills (${ackKills} after acknowledgements), ${acknowledged} acknowledged batches, in-flight batch kept ${inFlightKept} times, ` +
        `${Math.max(...generations) - 1} compactions\n`
    )
  })
})

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { LevelDatastore } from 'datastore-level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { datastoreStore } from '../src/index.js'
import { assertDistIsFresh, fixturePath } from './dist.js'
import { stateAfter } from './fixtures/batches.mjs'
import { privateKey, temporaryDirectory } from './fixtures.js'

const KILLS = Number(process.env.CRASH_KILLS ?? 24)
const SEED = Number(process.env.CRASH_SEED ?? 20_240_601)

/** xorshift32: the kill delays are random but reproducible with CRASH_SEED. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1
  return () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 0x1_0000_0000
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The most acknowledgements a run waits for before its kill. */
const MAX_ACKS = 30

/** When a run's writer is killed: after it acknowledged `acks` batches, or `delay` ms after its spawn. */
type Kill = { acks: number } | { delay: number }

/**
 * Runs the writer from batch `first` and kills it with SIGKILL once it has
 * acknowledged `kill.acks` batches (the kill lands among its writes however
 * fast or slow the machine is), or `kill.delay` ms after it started (often
 * while it opens; nothing is asserted about when those land). Returns the
 * batches it acknowledged: at least `kill.acks`.
 */
async function runAndKill(directory: string, first: number, kill: Kill): Promise<number[]> {
  const child = spawn(
    process.execPath,
    [fixturePath('crash-writer.mjs'), directory, String(first)],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  )
  let output = ''
  let errors = ''
  let reached: (() => void) | undefined
  const enough = new Promise<void>((resolve) => {
    reached = resolve
  })
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk
    const lines = output.split('\n').length - 1
    if ('acks' in kill && lines >= kill.acks) reached?.()
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
    .map((line) => Number(line))
}

describe('crash safety (SIGKILL)', () => {
  let directory: { path: string; remove(): Promise<void> }

  beforeAll(async () => {
    await assertDistIsFresh()
    directory = await temporaryDirectory()
  })

  afterAll(async () => {
    await directory.remove()
  })

  it(`holds exactly the acknowledged batches, plus possibly the one in flight, after ${KILLS} kills`, {
    timeout: 240_000
  }, async () => {
    const next = random(SEED)
    let applied = 0 // batches 1..applied are in the store
    let inFlightFound = 0
    let ackKills = 0
    let wanted = 0
    for (let kill = 0; kill < KILLS; kill++) {
      // one run in five is killed at a random moment from its start (often while opening),
      // the others once they acknowledged 1 to MAX_ACKS batches
      const plan: Kill =
        next() < 0.2
          ? { delay: Math.floor(next() * 250) }
          : { acks: 1 + Math.floor(next() * MAX_ACKS) }
      const acknowledged = await runAndKill(directory.path, applied + 1, plan)
      acknowledged.forEach((batch, index) => {
        expect(batch, `ack order in run ${kill}`).toBe(applied + 1 + index)
      })
      if ('acks' in plan) {
        expect(acknowledged.length, `run ${kill}`).toBeGreaterThanOrEqual(plan.acks)
        ackKills++
        wanted += plan.acks
      }
      const lastAcknowledged = applied + acknowledged.length

      const datastore = new LevelDatastore(directory.path)
      await datastore.open()
      const store = datastoreStore({ datastore, privateKey })
      const entries = await store.open()
      await store.close()
      await datastore.close()
      const ids = entries.map((entry) => entry.id)
      const acked = stateAfter(lastAcknowledged)
      const withInFlight = stateAfter(lastAcknowledged + 1)
      const context = `run ${kill} (seed ${SEED}, ${JSON.stringify(plan)}, last acknowledged batch ${lastAcknowledged})`
      if (ids.join() === acked.map((entry) => entry.id).join() && entries.length === acked.length) {
        expect(entries, context).toEqual(acked)
        applied = lastAcknowledged
      } else {
        expect(entries, context).toEqual(withInFlight)
        applied = lastAcknowledged + 1
        inFlightFound++
      }
    }
    // not vacuous, whatever the machine's speed: the counts follow from the kills chosen
    expect(ackKills).toBeGreaterThan(KILLS / 2)
    expect(applied).toBeGreaterThanOrEqual(wanted)
    console.log(
      `${KILLS} kills (${ackKills} after acknowledgements), ${applied} batches applied, in-flight batch found durable ${inFlightFound} times`
    )
  })
})

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { levelStore } from '../src/index.js'
import { assertDistIsFresh, fixturePath } from './dist.js'
import { stateAfter } from './fixtures/batches.mjs'
import { privateKey, temporaryDirectory } from './fixtures.js'

const KILLS = 60
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

/**
 * Runs the writer from batch `first` and kills it with SIGKILL `delay` ms
 * after it started, or, with `afterFirstAck`, `delay` ms after it acknowledged
 * its first batch (so that the kill lands among writes however slow the
 * machine is). Returns the batches it acknowledged.
 */
async function runAndKill(
  location: string,
  first: number,
  delay: number,
  afterFirstAck: boolean
): Promise<number[]> {
  const child = spawn(
    process.execPath,
    [fixturePath('crash-writer.mjs'), location, String(first)],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  )
  let output = ''
  let errors = ''
  let firstAck: (() => void) | undefined
  const acknowledged = new Promise<void>((resolve) => {
    firstAck = resolve
  })
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk
    if (output.includes('\n')) firstAck?.()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    errors += chunk
  })
  const closed = once(child, 'close')
  if (afterFirstAck) await Promise.race([acknowledged, closed])
  await sleep(delay)
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
    timeout: 60_000
  }, async () => {
    const next = random(SEED)
    let applied = 0 // batches 1..applied are in the store
    let inFlightFound = 0
    let killsDuringWrites = 0
    for (let kill = 0; kill < KILLS; kill++) {
      // one run in five is killed at any moment from its start (often while opening),
      // the others at a random moment among their writes
      const early = next() < 0.2
      const delay = Math.floor(next() * (early ? 250 : 80))
      const acknowledged = await runAndKill(directory.path, applied + 1, delay, !early)
      acknowledged.forEach((batch, index) => {
        expect(batch, `ack order in run ${kill}`).toBe(applied + 1 + index)
      })
      const lastAcknowledged = applied + acknowledged.length
      if (acknowledged.length > 0) killsDuringWrites++

      const store = levelStore({ location: directory.path, privateKey })
      const entries = await store.open()
      await store.close()
      const ids = entries.map((entry) => entry.id)
      const acked = stateAfter(lastAcknowledged)
      const withInFlight = stateAfter(lastAcknowledged + 1)
      const context = `run ${kill} (seed ${SEED}, delay ${delay} ms, last acknowledged batch ${lastAcknowledged})`
      if (ids.join() === acked.map((entry) => entry.id).join() && entries.length === acked.length) {
        expect(entries, context).toEqual(acked)
        applied = lastAcknowledged
      } else {
        expect(entries, context).toEqual(withInFlight)
        applied = lastAcknowledged + 1
        inFlightFound++
      }
    }
    // not vacuous: most runs were killed while writing, and many batches went through
    expect(killsDuringWrites).toBeGreaterThan(KILLS * 0.7)
    expect(applied).toBeGreaterThan(200)
    console.log(
      `${KILLS} kills, ${applied} batches applied, in-flight batch found durable ${inFlightFound} times`
    )
  })
})

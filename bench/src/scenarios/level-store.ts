/**
 * @dntkit/store-level (issue 4): durable enqueue throughput through an
 * `Outbox` with `levelStore` while 1k, 10k and 100k entries are pending (the
 * target peers are down), with 1 and 64 concurrent senders, next to the Go
 * original's strategy (the whole queue marshalled to JSON, encrypted, written
 * to a tmp file and renamed on every enqueue) at 1k and 10k; and the time to
 * open a store holding 100k entries.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Entry, Outbox } from '@dntkit/core'
import { type LevelStore, levelStore } from '@dntkit/store-level'
import { down, gc, parkedPolicy, privateKey, thousands } from '../common.js'
import type { BenchContext, Scenario, ScenarioResult } from '../types.js'

const PEERS = 1_000
const PAYLOAD_BYTES = 256

const policy = parkedPolicy

/** `count` sends spread over `senders` concurrent loops, each awaiting its send before the next. */
async function send(outbox: Outbox, count: number, senders: number, offset = 0): Promise<string[]> {
  const payload = new Uint8Array(PAYLOAD_BYTES).fill(7)
  const ids: string[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: senders }, async () => {
      while (next < count) {
        const index = offset + next++
        const result = await outbox.send({
          peer: `peer-${index % PEERS}`,
          protocol: '/bench/create/1',
          payload
        })
        if (result.status !== 'queued') throw new Error(`expected queued, got ${result.status}`)
        ids.push(result.id)
      }
    })
  )
  return ids
}

const median = (values: number[]): number => {
  const sorted = values.slice().sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

/**
 * Durable enqueues/s with `senders` concurrent senders while `pending` entries
 * wait: rounds of `perRound` timed sends, each purged (untimed) afterwards so
 * the queue stays between `pending` and `pending + perRound`. The median
 * round, so that a burst of other load on the machine does not decide it.
 */
async function measureOutbox(
  outbox: Outbox,
  senders: number,
  perRound: number,
  rounds: number
): Promise<number> {
  const rates: number[] = []
  for (let round = 0; round < rounds; round++) {
    gc()
    const started = performance.now()
    const ids = await send(outbox, perRound, senders, round * perRound)
    rates.push(perRound / ((performance.now() - started) / 1000))
    await outbox.purge({ ids })
  }
  return median(rates)
}

/** The store alone: entries/s written in `apply` batches of 64 new entries (median of rounds). */
async function measureStore(store: LevelStore, rounds: number, batches: number): Promise<number> {
  const payload = new Uint8Array(PAYLOAD_BYTES).fill(7)
  const rates: number[] = []
  for (let round = 0; round < rounds; round++) {
    const ids: string[] = []
    gc()
    const started = performance.now()
    for (let batch = 0; batch < batches; batch++) {
      const put: Entry[] = []
      for (let index = 0; index < 64; index++) {
        const id = `store-${round}-${batch}-${index}`
        ids.push(id)
        put.push({
          id,
          peer: `peer-${index}`,
          protocol: '/bench/create/1',
          payload,
          level: 'critical',
          attempts: 0,
          createdAt: Date.now(),
          nextAttemptAt: Date.now()
        })
      }
      await store.apply({ put })
    }
    rates.push((batches * 64) / ((performance.now() - started) / 1000))
    await store.apply({ delete: ids })
  }
  return median(rates)
}

/** The Go original's persistence (dnt_cache.go persistToDisk), re-implemented: no fsync, as there. */
class GoOriginalCache {
  private readonly entries: object[] = []
  private readonly key = randomBytes(32)
  private writing: Promise<void> = Promise.resolve()

  constructor(private readonly path: string) {}

  /** Appends without writing (to pre-fill). */
  add(index: number, payload: Uint8Array): void {
    this.entries.push({
      did: `did:example:${index}`,
      addr: { ID: `peer-${index % PEERS}`, Addrs: ['/ip4/127.0.0.1/tcp/4001'] },
      user: 'bench',
      payload: Buffer.from(payload).toString('base64'),
      proto: '/bench/create/1',
      retries: 0,
      added_at: new Date().toISOString()
    })
  }

  /** Appends, then rewrites the whole file (one rewrite at a time: Go raced on the same .tmp). */
  enqueue(index: number, payload: Uint8Array): Promise<void> {
    this.add(index, payload)
    const run = this.writing.then(() => this.persist())
    this.writing = run.catch(() => undefined)
    return run
  }

  private async persist(): Promise<void> {
    const plaintext = Buffer.from(JSON.stringify(this.entries))
    const nonce = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce)
    const sealed = Buffer.concat([
      nonce,
      cipher.update(plaintext),
      cipher.final(),
      cipher.getAuthTag()
    ])
    await writeFile(`${this.path}.tmp`, sealed, { mode: 0o600 })
    await rename(`${this.path}.tmp`, this.path)
  }

  /** What the Go original does at start: read, decrypt, parse everything. */
  async load(): Promise<number> {
    const data = await readFile(this.path)
    const decipher = createDecipheriv('aes-256-gcm', this.key, data.subarray(0, 12))
    decipher.setAuthTag(data.subarray(data.byteLength - 16))
    const plaintext = Buffer.concat([
      decipher.update(data.subarray(12, data.byteLength - 16)),
      decipher.final()
    ])
    return (JSON.parse(plaintext.toString('utf8')) as unknown[]).length
  }
}

async function measureGo(
  cache: GoOriginalCache,
  senders: number,
  count: number,
  offset: number
): Promise<number> {
  const payload = new Uint8Array(PAYLOAD_BYTES).fill(7)
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: senders }, async () => {
      while (next < count) await cache.enqueue(offset + next++, payload)
    })
  )
  return count / ((performance.now() - started) / 1000)
}

async function goBaseline(
  context: BenchContext,
  pending: number,
  quick: boolean
): Promise<Map<number, number>> {
  const cache = new GoOriginalCache(join(await context.tmpdir(), 'dnt_cache.bin'))
  const payload = new Uint8Array(PAYLOAD_BYTES).fill(7)
  for (let index = 0; index < pending - 1; index++) cache.add(index, payload)
  await cache.enqueue(pending, payload)
  const rates = new Map<number, number>()
  const count = Math.max(quick ? 5 : 20, Math.round((quick ? 20_000 : 200_000) / pending))
  for (const senders of [1, 64])
    rates.set(senders, await measureGo(cache, senders, count, pending + 1))
  return rates
}

const levelStoreScenario: Scenario = {
  name: 'level-store',
  async run(context) {
    const quick = context.quick
    const sizes = quick ? [1_000, 2_000, 5_000] : [1_000, 10_000, 100_000]
    const perRound = quick ? { 1: 100, 64: 500 } : { 1: 500, 64: 2_000 }
    const rounds = quick ? 3 : 5
    const results: ScenarioResult[] = []
    const rates = new Map<string, number>()
    const storeRates = new Map<number, number>()
    const largest = sizes[sizes.length - 1] as number
    let openMilliseconds = 0
    let openedEntries = 0
    let goLoadMilliseconds: number | undefined

    for (const pending of sizes) {
      const location = join(await context.tmpdir(), 'level')
      const outbox = new Outbox({
        transport: down,
        store: levelStore({ location, privateKey }),
        policy,
        concurrency: 64
      })
      await outbox.start()
      context.log(`level store: filling ${pending} pending entries`)
      await send(outbox, pending, 256, 1_000_000_000)
      for (const senders of [1, 64] as const) {
        context.log(`level store: ${pending} pending, ${senders} sender(s)`)
        rates.set(
          `${pending}/${senders}`,
          await measureOutbox(outbox, senders, perRound[senders], rounds)
        )
      }
      await outbox.stop()
      gc()
      const store = levelStore({ location, privateKey })
      const opens: number[] = []
      for (let attempt = 0; attempt < (pending === largest ? 3 : 1); attempt++) {
        const started = performance.now()
        openedEntries = (await store.open()).length
        opens.push(performance.now() - started)
      }
      openMilliseconds = median(opens)
      context.log(
        `level store: opened ${openedEntries} entries in ${openMilliseconds.toFixed(0)} ms`
      )
      storeRates.set(pending, await measureStore(store, rounds, quick ? 8 : 32))
      await store.close()
    }

    const go = new Map<string, number>()
    for (const pending of sizes.slice(0, 2)) {
      context.log(`Go-original strategy: ${pending} pending`)
      for (const [senders, rate] of await goBaseline(context, pending, quick))
        go.set(`${pending}/${senders}`, rate)
    }
    {
      // the Go original's start-up with as many entries as the level store opened
      const cache = new GoOriginalCache(join(await context.tmpdir(), 'dnt_cache.bin'))
      const payload = new Uint8Array(PAYLOAD_BYTES).fill(7)
      for (let index = 0; index < openedEntries - 1; index++) cache.add(index, payload)
      await cache.enqueue(openedEntries, payload)
      gc()
      const started = performance.now()
      await cache.load()
      goLoadMilliseconds = performance.now() - started
    }

    const goName = 'Go-original strategy (rewrite + encrypt everything per enqueue, no fsync)'
    const smallest = sizes[0] as number
    for (const senders of [1, 64]) {
      for (const pending of sizes) {
        const value = rates.get(`${pending}/${senders}`) as number
        const result: ScenarioResult = {
          name: `durable enqueue via Outbox, ${thousands(pending)} pending, ${senders} sender${senders > 1 ? 's' : ''}`,
          metric: 'throughput',
          unit: 'enqueues/s',
          value: Math.round(value)
        }
        const baseline = go.get(`${pending}/${senders}`)
        if (baseline !== undefined) {
          result.baseline = { name: goName, value: Math.round(baseline) }
          result.ratio = value / baseline
        } else {
          const first = rates.get(`${smallest}/${senders}`) as number
          result.baseline = {
            name: `the same at ${thousands(smallest)} pending`,
            value: Math.round(first)
          }
          result.ratio = value / first
        }
        const flat = value / (rates.get(`${smallest}/${senders}`) as number)
        if (senders === 64) {
          result.goal = `>= 20,000/s, and flat (>= 0.7x the ${thousands(smallest)} figure)`
          result.met = value >= 20_000 && flat >= 0.7
        } else {
          result.goal = `flat: >= 0.7x the ${thousands(smallest)} figure`
          result.met = flat >= 0.7
        }
        results.push(result)
      }
    }
    for (const pending of sizes) {
      const value = storeRates.get(pending) as number
      const first = storeRates.get(smallest) as number
      const result: ScenarioResult = {
        name: `levelStore.apply alone, 64-entry batches, ${thousands(pending)} entries stored`,
        metric: 'throughput',
        unit: 'entries/s',
        value: Math.round(value),
        goal: `flat: >= 0.7x the ${thousands(smallest)} figure`,
        met: value / first >= 0.7
      }
      if (pending !== smallest) {
        result.baseline = { name: `the same at ${thousands(smallest)}`, value: Math.round(first) }
        result.ratio = value / first
      }
      results.push(result)
    }
    results.push({
      name: `open a level store holding ${thousands(openedEntries)} entries`,
      metric: 'latency',
      unit: 'ms',
      value: Math.round(openMilliseconds),
      baseline: {
        name: 'Go original: read + decrypt + JSON.parse the whole file',
        value: Math.round(goLoadMilliseconds)
      },
      ratio: openMilliseconds / goLoadMilliseconds,
      goal: '< 1,500 ms (lower is better)',
      met: openMilliseconds < 1_500
    })
    return results
  }
}

export default levelStoreScenario

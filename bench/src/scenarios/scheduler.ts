/**
 * The scheduler alone (issue 2): enqueue throughput into a memory store as
 * the queue grows, CPU of an idle outbox holding many backing-off peers, and
 * heap bytes per pending entry.
 */
import { definePolicy, memoryStore, Outbox } from '@dntkit/core'
import { down, gc } from '../common.js'
import type { BenchContext, Scenario, ScenarioResult } from '../types.js'

const TEN_MINUTES = 600_000
const policy = definePolicy({
  levels: {
    critical: { backoff: { type: 'fixed', interval: TEN_MINUTES } },
    moderate: { backoff: { type: 'fixed', interval: TEN_MINUTES } }
  }
})

async function fill(
  outbox: Outbox,
  count: number,
  peers: number,
  level: string,
  parallel = 2_000
): Promise<void> {
  const payload = new Uint8Array(256)
  for (let sent = 0; sent < count; ) {
    const batch: Promise<unknown>[] = []
    for (let index = 0; index < parallel && sent < count; index++, sent++) {
      batch.push(
        outbox.send({ peer: `peer-${sent % peers}`, protocol: '/bench/1', payload }, { level })
      )
    }
    await Promise.all(batch)
  }
}

const WINDOWS = 5

/**
 * Enqueues/s of durable sends (64 in flight) into an outbox already holding
 * `pending`: the median of five windows of `measured` sends, so that the one
 * window where a hash table doubles (an amortized O(1) cost) does not decide
 * the figure.
 */
async function enqueueRate(pending: number, measured: number): Promise<number> {
  const outbox = new Outbox({ transport: down, store: memoryStore(), policy, concurrency: 64 })
  await outbox.start()
  await fill(outbox, pending, 1_000, 'critical')
  gc()
  const rates: number[] = []
  for (let window = 0; window < WINDOWS; window++) {
    const started = performance.now()
    await fill(outbox, measured, 1_000, 'critical', 64)
    rates.push(measured / ((performance.now() - started) / 1000))
  }
  await outbox.stop()
  rates.sort((a, b) => a - b)
  return rates[Math.floor(WINDOWS / 2)] as number
}

/** The Go original's retry loop: every tick drains all entries, tries each, requeues the failures. */
function goTickMilliseconds(entries: number): number {
  type GoEntry = { peer: string; payload: Uint8Array; retries: number }
  let cache: GoEntry[] = Array.from({ length: entries }, (_, index) => ({
    peer: `peer-${index % 10_000}`,
    payload: new Uint8Array(0),
    retries: 0
  }))
  const write = (entry: GoEntry): Error | undefined =>
    entry.peer.length > 0 ? new Error('dial backoff') : undefined
  const started = performance.now()
  const drained = cache
  cache = []
  const keep: GoEntry[] = []
  for (const entry of drained) if (write(entry) !== undefined) keep.push(entry)
  cache = keep.concat(cache)
  return performance.now() - started
}

async function idleCpu(context: BenchContext, entries: number, peers: number, seconds: number) {
  const outbox = new Outbox({ transport: down, store: memoryStore(), policy, concurrency: 64 })
  await outbox.start()
  await fill(outbox, entries, peers, 'moderate')
  // every peer has failed once and now sleeps for ten minutes
  await new Promise((resolve) => setTimeout(resolve, 200))
  gc()
  context.log(
    `idle: ${outbox.size} entries on ${outbox.stats().peers} peers; measuring ${seconds} s`
  )
  const before = process.cpuUsage()
  const started = performance.now()
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  const used = process.cpuUsage(before)
  const wall = performance.now() - started
  await outbox.stop()
  return ((used.user + used.system) / 1000 / wall) * 100
}

async function bytesPerEntry(
  count: number
): Promise<{ outbox: number; plain: number; payload: number }> {
  const measure = async (hold: (messages: number) => Promise<unknown>): Promise<number> => {
    gc()
    gc()
    const before = process.memoryUsage()
    const kept = await hold(count)
    gc()
    gc()
    const after = process.memoryUsage()
    const total = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers)
    void kept
    return total / count - 256
  }
  const payload = await measure(async (messages) =>
    Array.from({ length: messages }, () => new Uint8Array(256))
  )
  const plain = await measure(async (messages) =>
    Array.from({ length: messages }, (_, index) => ({
      peer: `peer-${index % 1_000}`,
      protocol: '/bench/1',
      payload: new Uint8Array(256)
    }))
  )
  let outbox: Outbox | undefined
  const held = await measure(async (messages) => {
    outbox = new Outbox({ transport: down, store: memoryStore(), policy })
    await outbox.start()
    const peers = Array.from({ length: 1_000 }, (_, index) => `peer-${index}`)
    for (let sent = 0; sent < messages; sent += 1_000) {
      const batch: Promise<unknown>[] = []
      for (let index = sent; index < Math.min(messages, sent + 1_000); index++) {
        batch.push(
          outbox.send(
            {
              peer: peers[index % 1_000] as string,
              protocol: '/bench/1',
              payload: new Uint8Array(256)
            },
            { level: 'moderate' }
          )
        )
      }
      await Promise.all(batch)
    }
    return outbox
  })
  await outbox?.stop()
  return { outbox: held, plain, payload }
}

const scheduler: Scenario = {
  name: 'scheduler',
  async run(context) {
    const results: ScenarioResult[] = []
    const sizes = context.quick ? [1_000, 10_000, 50_000] : [10_000, 100_000, 1_000_000]
    const measured = context.quick ? 2_000 : 10_000
    const rates: number[] = []
    await enqueueRate(1_000, measured) // warm-up: let the JIT settle before the first figure
    for (const pending of sizes) {
      context.log(`enqueue with ${pending} pending`)
      rates.push(await enqueueRate(pending, measured))
      gc()
    }
    const first = rates[0] as number
    sizes.forEach((pending, index) => {
      const rate = rates[index] as number
      const result: ScenarioResult = {
        name: `durable enqueue, memory store, ${pending.toLocaleString('en-US')} pending`,
        metric: 'throughput',
        unit: 'enqueues/s',
        value: Math.round(rate)
      }
      if (index > 0) {
        result.baseline = {
          name: `${sizes[0]?.toLocaleString('en-US')} pending`,
          value: Math.round(first)
        }
        result.ratio = rate / first
        result.goal = '>= 0.5x the smallest queue'
        result.met = rate / first >= 0.5
      }
      results.push(result)
    })

    const idleEntries = context.quick ? 50_000 : 1_000_000
    const idlePeers = context.quick ? 1_000 : 10_000
    const cpu = await idleCpu(context, idleEntries, idlePeers, context.quick ? 1 : 5)
    const tick = goTickMilliseconds(idleEntries)
    const goCpu = (tick / 15_000) * 100
    results.push({
      name: `idle CPU, ${idleEntries.toLocaleString('en-US')} entries on ${idlePeers.toLocaleString('en-US')} backing-off peers`,
      metric: 'cpu',
      unit: '% of a core',
      value: Number(cpu.toFixed(3)),
      baseline: {
        name: 'Go original: 15 s ticker retrying every entry (dial cost excluded)',
        value: Number(goCpu.toFixed(3))
      },
      ratio: goCpu > 0 ? cpu / goCpu : undefined,
      goal: '< 1% of a core',
      met: cpu < 1
    })

    const count = context.quick ? 20_000 : 200_000
    const memory = await bytesPerEntry(count)
    // `measure` reports bytes beyond the 256 raw payload bytes; the payload's own
    // Uint8Array and ArrayBuffer objects cost `memory.payload` of that in V8
    const added = memory.outbox - memory.payload
    context.log(
      `per entry beyond 256 raw bytes: outbox ${Math.round(memory.outbox)}, plain array ${Math.round(memory.plain)}, Uint8Array objects alone ${Math.round(memory.payload)}`
    )
    results.push({
      name: 'heap per pending 256-byte entry beyond its payload Uint8Array',
      metric: 'memory',
      unit: 'bytes',
      value: Math.round(added),
      baseline: {
        name: 'the same messages in a plain array',
        value: Math.round(memory.plain - memory.payload)
      },
      ratio:
        memory.plain - memory.payload > 0 ? added / (memory.plain - memory.payload) : undefined,
      goal: '<= 300 bytes beyond the payload',
      met: added <= 300
    })
    results.push({
      name: 'heap per pending 256-byte entry beyond the 256 raw bytes (Uint8Array objects included)',
      metric: 'memory',
      unit: 'bytes',
      value: Math.round(memory.outbox),
      baseline: { name: 'the same messages in a plain array', value: Math.round(memory.plain) },
      ratio: memory.plain > 0 ? memory.outbox / memory.plain : undefined
    })
    return results
  }
}

export default scheduler

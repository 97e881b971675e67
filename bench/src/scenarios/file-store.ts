/**
 * @dntkit/store-file (issue 3): durable enqueue throughput through an
 * `Outbox` with `fileStore` while 1k, 10k and 100k entries are pending (the
 * target peers are down), with 1 and 64 concurrent senders; next to this
 * disk's raw append+fsync rate and the Go original's strategy (the whole
 * queue marshalled to JSON, encrypted, written to a tmp file and renamed on
 * every enqueue, no fsync) at 1k and 10k, all measured in the same run; and
 * the time `open()` takes to recover a store of 100k entries.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { open, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Entry, Outbox } from '@dntkit/core'
import { DEFAULT_COMPACTION, fileStore } from '@dntkit/store-file'
import { down, gc, parkedPolicy, privateKey, thousands } from '../common.js'
import type { BenchContext, Scenario, ScenarioResult } from '../types.js'

const PEERS = 100
const PAYLOAD_BYTES = 256
const DAY = 86_400_000
const payload = new Uint8Array(PAYLOAD_BYTES).fill(7)

const policy = parkedPolicy

const median = (values: number[]): number => {
  const sorted = values.slice().sort((a, b) => a - b)
  return Math.round((sorted[Math.floor(sorted.length / 2)] as number) * 100) / 100
}

/** Writes `count` pending entries (due in a day, so nothing is attempted) straight into the store. */
async function prefill(directory: string, count: number): Promise<void> {
  const store = fileStore({ directory, privateKey })
  await store.open()
  const now = Date.now()
  for (let offset = 0; offset < count; offset += 5_000) {
    const put: Entry[] = []
    for (let index = offset; index < Math.min(count, offset + 5_000); index++) {
      put.push({
        id: `pending-${String(index).padStart(7, '0')}`,
        peer: `peer-${index % PEERS}`,
        protocol: '/bench/create/1',
        payload,
        level: 'critical',
        attempts: 1,
        createdAt: now,
        nextAttemptAt: now + DAY
      })
    }
    await store.apply({ put })
  }
  await store.close()
}

let roundNumber = 0

/**
 * Median over `rounds` of durable enqueues/s with `senders` concurrent
 * senders. Each round sends to peers of its own and purges them afterwards
 * (untimed), so the pending count stays where it was.
 */
async function measure(
  outbox: Outbox,
  senders: number,
  perRound: number,
  rounds: number
): Promise<number> {
  const rates: number[] = []
  for (let round = 0; round < rounds; round++) {
    gc()
    const prefix = `round-${roundNumber++}-peer-`
    let next = 0
    const started = performance.now()
    await Promise.all(
      Array.from({ length: senders }, async () => {
        while (next < perRound) {
          const index = next++
          const result = await outbox.send({
            peer: prefix + (index % PEERS),
            protocol: '/bench/create/1',
            payload
          })
          if (result.status !== 'queued') throw new Error(`expected queued, got ${result.status}`)
        }
      })
    )
    rates.push(perRound / ((performance.now() - started) / 1000))
    await Promise.all(
      Array.from({ length: PEERS }, (_, index) => outbox.purge({ peer: prefix + index }))
    )
  }
  return Math.round(median(rates))
}

/**
 * This disk's rate of appending one record-sized buffer and fdatasyncing it
 * (or, with `dsync`, of appending it to a file opened O_DSYNC, as the journal does).
 */
async function rawAppendFsync(
  directory: string,
  milliseconds: number,
  dsync = false
): Promise<number> {
  const flags = dsync
    ? constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_DSYNC
    : 'a'
  const handle = await open(
    join(directory, dsync ? 'raw-dsync.bin' : 'raw-append.bin'),
    flags,
    0o600
  )
  const record = randomBytes(PAYLOAD_BYTES + 150)
  let count = 0
  const started = performance.now()
  try {
    while (performance.now() - started < milliseconds) {
      await handle.write(record)
      if (!dsync) await handle.datasync()
      count++
    }
  } finally {
    await handle.close()
  }
  return Math.round(count / ((performance.now() - started) / 1000))
}

interface GoEntry {
  did: string
  peer: string
  user: string
  payload: Uint8Array
  proto: string
  retries: number
  addedAt: Date
}

const goKey = Buffer.from(
  hkdfSync('sha256', privateKey, Buffer.alloc(0), 'oc-discovery/dnt-cache/v1', 32)
)

/** The Go original's persistToDisk: marshal every entry, seal, write tmp, rename (no fsync). */
async function goPersist(entries: GoEntry[], path: string): Promise<void> {
  const json = JSON.stringify(
    entries.map((entry) => ({
      did: entry.did,
      addr: { ID: entry.peer, Addrs: [] },
      user: entry.user,
      payload: Buffer.from(entry.payload).toString('base64'),
      proto: entry.proto,
      retries: entry.retries,
      added_at: entry.addedAt.toISOString()
    }))
  )
  const nonce = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', goKey, nonce)
  const sealed = Buffer.concat([nonce, cipher.update(json), cipher.final(), cipher.getAuthTag()])
  await writeFile(`${path}.tmp`, sealed, { mode: 0o600 })
  await rename(`${path}.tmp`, path)
}

function goEntry(index: number): GoEntry {
  const peer = `peer-${index % PEERS}`
  return {
    did: `did:${peer}`,
    peer,
    user: 'bench',
    payload,
    proto: '/bench/create/1',
    retries: 0,
    addedAt: new Date()
  }
}

/** Enqueues/s of the Go original's strategy with `pending` entries queued (its enqueues are serial). */
async function goStrategy(directory: string, pending: number, enqueues: number): Promise<number> {
  const entries = Array.from({ length: pending }, (_, index) => goEntry(index))
  const path = join(directory, 'dnt_cache.bin')
  gc()
  const started = performance.now()
  for (let index = 0; index < enqueues; index++) {
    entries.push(goEntry(pending + index))
    await goPersist(entries, path)
  }
  return Math.round(enqueues / ((performance.now() - started) / 1000))
}

/** The Go original's loadFromDisk of its file: read, decrypt, JSON.parse, base64-decode. */
async function goLoad(path: string): Promise<number> {
  const started = performance.now()
  const bytes = await readFile(path)
  const decipher = createDecipheriv('aes-256-gcm', goKey, bytes.subarray(0, 12))
  decipher.setAuthTag(bytes.subarray(bytes.byteLength - 16))
  const text = Buffer.concat([
    decipher.update(bytes.subarray(12, bytes.byteLength - 16)),
    decipher.final()
  ])
  const elements = JSON.parse(text.toString('utf8')) as { payload: string }[]
  for (const element of elements) Buffer.from(element.payload, 'base64')
  return performance.now() - started
}

/** Median wall time of `repeats` opens (and the CPU time they took, for a loaded machine). */
async function timeOpen(
  directory: string,
  repeats: number
): Promise<{ ms: number; cpu: number; entries: number }> {
  const times: number[] = []
  const cpus: number[] = []
  let entries = 0
  for (let repeat = 0; repeat < repeats; repeat++) {
    gc()
    const store = fileStore({ directory, privateKey })
    const cpu = process.cpuUsage()
    const started = performance.now()
    entries = (await store.open()).length
    times.push(performance.now() - started)
    const used = process.cpuUsage(cpu)
    cpus.push((used.user + used.system) / 1000)
    await store.close()
  }
  return { ms: Math.round(median(times)), cpu: Math.round(median(cpus)), entries }
}

async function run(context: BenchContext): Promise<ScenarioResult[]> {
  const { quick } = context
  const sizes = quick ? [1_000] : [1_000, 10_000, 100_000]
  const single = quick ? { perRound: 200, rounds: 1 } : { perRound: 1_000, rounds: 5 }
  const many = quick ? { perRound: 2_000, rounds: 1 } : { perRound: 20_000, rounds: 3 }
  const results: ScenarioResult[] = []

  const scratch = await context.tmpdir()
  const raw = await rawAppendFsync(scratch, quick ? 300 : 2_000)
  context.log(`raw append+fsync: ${raw}/s`)
  results.push({
    name: 'raw append+fsync (this disk)',
    metric: 'appends',
    unit: 'ops/s',
    value: raw
  })
  const rawDsync = await rawAppendFsync(scratch, quick ? 300 : 2_000, true)
  context.log(`raw O_DSYNC append: ${rawDsync}/s`)
  results.push({
    name: 'raw O_DSYNC append (this disk; how the journal writes)',
    metric: 'appends',
    unit: 'ops/s',
    value: rawDsync
  })

  const go = new Map<number, number>()
  for (const pending of sizes.filter((size) => size <= 10_000)) {
    const rate = await goStrategy(scratch, pending, quick ? 20 : pending >= 10_000 ? 20 : 100)
    go.set(pending, rate)
    context.log(`Go original's strategy at ${thousands(pending)} pending: ${rate}/s`)
    results.push({
      name: `Go original's strategy, ${thousands(pending)} pending`,
      metric: 'enqueues (no fsync)',
      unit: 'ops/s',
      value: rate
    })
  }

  const manyAt = new Map<number, number>()
  let largest = ''
  for (const pending of sizes) {
    const directory = await context.tmpdir()
    await prefill(directory, pending)
    const outbox = new Outbox({
      transport: down,
      store: fileStore({ directory, privateKey }),
      policy,
      concurrency: 64
    })
    await outbox.start()
    // 1 sender next to the raw rate, alternated round by round: other load on the machine hits both
    const pairs: { one: number; raw: number }[] = []
    for (let round = 0; round < single.rounds; round++) {
      const raw = await rawAppendFsync(scratch, quick ? 200 : 500)
      pairs.push({ one: await measure(outbox, 1, single.perRound, 1), raw })
    }
    const one = median(pairs.map((pair) => pair.one))
    const rawNearby = median(pairs.map((pair) => pair.raw))
    const oneRatio = median(pairs.map((pair) => pair.one / pair.raw))
    const sixtyFour = await measure(outbox, 64, many.perRound, many.rounds)
    await outbox.stop()
    manyAt.set(pending, sixtyFour)
    largest = directory
    context.log(
      `fileStore at ${thousands(pending)} pending: 1 sender ${one}/s, 64 senders ${sixtyFour}/s`
    )
    results.push({
      name: `fileStore via Outbox, 1 sender, ${thousands(pending)} pending`,
      metric: 'durable enqueues',
      unit: 'ops/s',
      value: one,
      baseline: { name: 'raw append+fsync, measured between the rounds', value: rawNearby },
      ratio: Number(oneRatio.toFixed(2)),
      goal: '>= 0.7x raw append+fsync (median of per-round ratios)',
      met: oneRatio >= 0.7
    })
    const goRate = go.get(pending)
    const first = manyAt.get(sizes[0] as number) as number
    results.push({
      name: `fileStore via Outbox, 64 senders, ${thousands(pending)} pending`,
      metric: 'durable enqueues',
      unit: 'ops/s',
      value: sixtyFour,
      ...(goRate !== undefined
        ? {
            baseline: { name: "Go original's strategy (no fsync)", value: goRate },
            ratio: Number((sixtyFour / goRate).toFixed(1))
          }
        : {
            baseline: {
              name: `fileStore, 64 senders, ${thousands(sizes[0] as number)} pending`,
              value: first
            },
            ratio: Number((sixtyFour / first).toFixed(2))
          }),
      goal: pending >= 100_000 ? '>= 20,000/s, flat from 1k (>= 0.8x)' : 'flat from 1k to 100k',
      ...(pending >= 100_000 ? { met: sixtyFour >= 20_000 && sixtyFour >= 0.8 * first } : {})
    })
  }

  // recovery: the store the largest run left (100k entries, as the workload wrote it)
  const opened = await timeOpen(largest, quick ? 1 : 3)
  const goFile = join(scratch, 'dnt_cache.bin')
  await goPersist(
    Array.from({ length: opened.entries }, (_, index) => goEntry(index)),
    goFile
  )
  const goOpen = Math.round(await goLoad(goFile))
  context.log(
    `open ${opened.entries} entries: ${opened.ms} ms, ${opened.cpu} ms CPU (Go load ${goOpen} ms)`
  )
  results.push({
    name: `fileStore open(), ${thousands(opened.entries)} entries`,
    metric: 'recovery time',
    unit: 'ms',
    value: opened.ms,
    baseline: { name: "Go original's load of as many entries", value: goOpen },
    ratio: Number((opened.ms / goOpen).toFixed(2)),
    goal: quick ? 'under 1 s at 100k (quick run: fewer)' : 'under 1,000 ms (lower is better)',
    ...(quick ? {} : { met: opened.ms < 1_000 })
  })
  if (!quick) {
    // worst case the default compaction thresholds allow: a snapshot of 100k plus a
    // journal of one-entry records just short of the next compaction
    const store = fileStore({ directory: largest, privateKey })
    const entries = await store.open()
    await store.compact()
    const records = Math.ceil(entries.length * DEFAULT_COMPACTION.journalRecordsRatio) - 1
    for (let index = 0; index < records; index++) {
      const entry = entries[index] as Entry
      await store.apply({ put: [{ ...entry, attempts: entry.attempts + 1 }] })
    }
    await store.close()
    const worst = await timeOpen(largest, 3)
    context.log(`open worst case (${records} journal records): ${worst.ms} ms, ${worst.cpu} ms CPU`)
    results.push({
      name: `fileStore open(), ${thousands(worst.entries)} entries + ${thousands(records)} one-entry journal records`,
      metric: 'recovery time',
      unit: 'ms',
      value: worst.ms,
      baseline: { name: "Go original's load of as many entries", value: goOpen },
      ratio: Number((worst.ms / goOpen).toFixed(2)),
      goal: 'under 1,000 ms (lower is better)',
      met: worst.ms < 1_000
    })
  }
  return results
}

const scenario: Scenario = { name: 'file-store', run }
export default scenario

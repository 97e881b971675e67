/**
 * A receiver that flaps (up 200 ms, down 300 ms: the network to it is cut,
 * every connection reset and nothing listening, then back) under a steady
 * stream from 10 senders (half raw, half envelope, each its own node, key,
 * file store and Outbox, in a few processes).
 * The stream lasts until the receiver flapped FLAP_CYCLES times (counted).
 * Nothing accepted is lost, each sender's messages first arrive in the order
 * they were sent, envelope messages arrive once, and the senders' heap does not
 * grow with time. No check depends on the machine's speed: how many messages
 * were sent and how many waited at once are printed, not judged.
 */
import { afterAll, afterEach, expect, it } from 'vitest'
import { killAll, startActor } from '../src/child.js'
import {
  FLAP_CYCLES,
  FLAP_DOWN,
  FLAP_PROCESSES,
  FLAP_RATE,
  FLAP_SENDERS,
  FLAP_UP,
  PROTOCOL
} from '../src/constants.js'
import { identityFor } from '../src/identity.js'
import { fifoViolation, readReceived, verdict } from '../src/ledger.js'
import type { MemorySample } from '../src/memory.js'
import { addressOf } from '../src/node.js'
import { freePort } from '../src/ports.js'
import { type Workspace, workspace } from '../src/temporary.js'

const spaces: Workspace[] = []
afterEach(killAll)
afterAll(() => {
  for (const space of spaces) space.remove()
})

const MEGABYTE = 1024 * 1024
type Mode = 'raw' | 'envelope'
interface SentReport {
  name: string
  sent: number
  outcomes: Record<string, number>
  errors: string[]
  accepted: number[]
}
interface DrainReport {
  done: boolean
  left: number
  storeErrors: number
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

it(`keeps every message and FIFO with a peer flapping ${FLAP_UP}/${FLAP_DOWN} ms under ${FLAP_SENDERS} senders`, async () => {
  const space = workspace('flap')
  spaces.push(space)
  const receiverName = 'flap-receiver'
  const port = await freePort()
  const out = space.at('received.jsonl')
  const receiver = startActor('receiver', {
    name: receiverName,
    port,
    out,
    protocols: [PROTOCOL],
    raw: true,
    envelope: true,
    sync: false,
    flap: { up: FLAP_UP, down: FLAP_DOWN }
  })
  await receiver.waitFor(/"ready"/, 20_000)
  const peer = identityFor(receiverName).peerId

  // the senders, spread over a few processes (on 2 cores, one process each would spend the
  // 200 ms windows waiting to be scheduled rather than connecting)
  const senders = Array.from({ length: FLAP_SENDERS }, (_, index) => {
    const mode: Mode = index % 2 === 0 ? 'raw' : 'envelope'
    const name = `flap-sender-${index}-${mode}`
    return { name, mode, storeDirectory: space.at(`sender-${index}`), rate: FLAP_RATE[mode] }
  })
  const processes = Array.from({ length: FLAP_PROCESSES }, (_, index) =>
    senders.filter((_, sender) => sender % FLAP_PROCESSES === index)
  ).map((group) => ({
    group,
    child: startActor('stream-sender', {
      senders: group,
      peer,
      addrs: [addressOf(port)],
      protocol: PROTOCOL,
      retryInterval: 50,
      drainTimeout: 30_000
    })
  }))
  for (const { child } of processes) await child.next('ready', 60_000)
  // the senders stream while the receiver flaps FLAP_CYCLES times (the bound only stops a hang)
  await receiver.request(
    { cycles: FLAP_CYCLES },
    'cycled',
    FLAP_CYCLES * 10 * (FLAP_UP + FLAP_DOWN)
  )
  const sent = new Map<string, SentReport>()
  let streamedFor = 0
  for (const { child } of processes) {
    const report = await child.request<{ sent: SentReport[]; streamedFor: number }>(
      { stop: true },
      'sent',
      60_000
    )
    for (const item of report.sent) sent.set(item.name, item)
    streamedFor = Math.max(streamedFor, report.streamedFor)
  }

  // the stream is over: the peer stays up, and every sender drains its queue
  const { cycles, resets } = await receiver.request<{ cycles: number; resets: number }>(
    { steady: true },
    'steady',
    10_000
  )
  const drained = new Map<string, DrainReport>()
  const memory: MemorySample[][] = []
  for (const { child, group } of processes) {
    const report = await child.request<{ drained: DrainReport[]; memory: MemorySample[] }>(
      { drain: true },
      'drained',
      60_000
    )
    report.drained.forEach((item, index) => {
      drained.set(group[index]!.name, item)
    })
    memory.push(report.memory)
    expect((await child.exited).code).toBe(0)
  }
  expect((await receiver.kill('SIGTERM')).code).toBe(0)

  const records = readReceived(out)
  let duplicates = 0
  const lines: string[] = []
  const problems: string[] = []
  const check = (ok: boolean, problem: string): void => {
    if (!ok) problems.push(problem)
  }
  for (const { name, mode } of senders) {
    const report = sent.get(name) as SentReport
    const drain = drained.get(name) as DrainReport
    const mine = records.filter((record) => record.data.startsWith(`${name}/`))
    const result = verdict(
      report.accepted.map((sequence) => `${name}/${sequence}`),
      mine
    )
    duplicates += result.duplicated.length
    check(report.errors.length === 0, `${name}: sends failed: ${report.errors.join('; ')}`)
    check(report.sent > 0, `${name}: sent nothing while the receiver flapped`)
    check(
      report.accepted.length === report.sent,
      `${name}: ${report.accepted.length} of ${report.sent} sends accepted`
    )
    check(drain.done && drain.left === 0, `${name}: ${drain.left} left after the drain`)
    check(drain.storeErrors === 0, `${name}: ${drain.storeErrors} store errors`)
    check(result.missing.length === 0, `${name}: lost ${result.missing.join(', ')}`)
    check(result.unexpected.length === 0, `${name}: never sent ${result.unexpected.join(', ')}`)
    if (mode === 'envelope')
      check(result.duplicated.length === 0, `${name}: twice ${result.duplicated.join(', ')}`)
    const fifo = fifoViolation(mine)
    check(fifo === undefined, `FIFO: ${fifo}`)
    lines.push(
      `${name}: ${report.accepted.length} accepted (${JSON.stringify(report.outcomes)}), ` +
        `${result.duplicated.length} duplicates`
    )
  }
  // memory of each sender process: after warm-up, the heap after a GC does not grow with time,
  // and the queues stay short
  memory.forEach((samples, index) => {
    const during = samples.filter((sample) => sample.at <= streamedFor)
    const warm = during.filter((sample) => sample.at >= 3_000)
    const quarter = Math.max(1, Math.floor(warm.length / 4))
    const early = median(warm.slice(0, quarter).map((sample) => sample.heapUsed))
    const late = median(warm.slice(-quarter).map((sample) => sample.heapUsed))
    const maxQueued = Math.max(...during.map((sample) => sample.queued ?? 0))
    const maxHeap = Math.max(...samples.map((sample) => sample.heapUsed))
    const maxRss = Math.max(...samples.map((sample) => sample.rss))
    lines.push(
      `process ${index}: heap ${(early / MEGABYTE).toFixed(1)} -> ${(late / MEGABYTE).toFixed(1)} MB ` +
        `(max ${(maxHeap / MEGABYTE).toFixed(1)}, rss max ${(maxRss / MEGABYTE).toFixed(0)} MB), ` +
        `queued at most ${maxQueued} (${during.map((sample) => sample.queued).join(' ')})`
    )
    check(late - early < 8 * MEGABYTE, `process ${index}: heap grew from ${early} to ${late} bytes`)
    check(maxHeap < 96 * MEGABYTE, `process ${index}: heap reached ${maxHeap} bytes`)
  })
  process.stderr.write(
    `[chaos flap] receiver cycles ${cycles} (${resets} connections reset), ${records.length} records, ${duplicates} raw duplicates\n  ${lines.join('\n  ')}\n`
  )
  expect(problems).toEqual([])
  expect(cycles, 'the receiver flapped all along').toBeGreaterThanOrEqual(FLAP_CYCLES)
})

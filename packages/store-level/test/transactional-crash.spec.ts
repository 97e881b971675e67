import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { definePolicy, type Entry, Outbox } from '@dntkit/core'
import { ClassicLevel } from 'classic-level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { levelStore } from '../src/index.js'
import { assertDistIsFresh, fixturePath } from './dist.js'
import { privateKey, temporaryDirectory } from './fixtures.js'

const KILLS = Number(process.env.CRASH_KILLS ?? 16)
const SEED = Number(process.env.CRASH_SEED ?? 20_260_117)

/** xorshift32: the kill points are random but reproducible with CRASH_SEED. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1
  return () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 0x1_0000_0000
  }
}

/** Before any batch of the run (`ready`), or `delay` ms after its `acks`-th acknowledged batch. */
type Kill = { ready: true } | { acks: number; delay: number }

interface Run {
  acknowledged: number[]
  delivered: string[]
}

/** Runs the writer from order `first`, kills it with SIGKILL at `kill`; returns what it reported. */
async function runAndKill(location: string, first: number, kill: Kill): Promise<Run> {
  const child = spawn(
    process.execPath,
    [fixturePath('transactional-writer.mjs'), location, String(first)],
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
    const lines = output.split('\n').slice(0, -1)
    if (
      'ready' in kill
        ? lines.includes('ready')
        : lines.filter((line) => line.startsWith('a ')).length >= kill.acks
    ) {
      reached?.()
    }
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    errors += chunk
  })
  const closed = once(child, 'close')
  await Promise.race([enough, closed])
  if ('delay' in kill && kill.delay > 0)
    await new Promise((resolve) => setTimeout(resolve, kill.delay))
  child.kill('SIGKILL')
  const [code, signal] = (await closed) as [number | null, string | null]
  if (signal !== 'SIGKILL') throw new Error(`writer ended by itself (code ${code}): ${errors}`)
  // only complete lines were reported
  const lines = output.split('\n').slice(0, -1)
  return {
    acknowledged: lines
      .filter((line) => line.startsWith('a '))
      .map((line) => Number(line.slice(2))),
    delivered: lines.filter((line) => line.startsWith('d ')).map((line) => line.slice(2))
  }
}

/** The orders the application database holds, and the messages its outbox sublevel holds. */
async function contents(location: string): Promise<{ orders: number[]; messages: Entry[] }> {
  const db = new ClassicLevel<string, { k: number }>(location, { valueEncoding: 'json' })
  await db.open()
  try {
    const orders = await db
      .sublevel<string, { k: number }>('orders', { valueEncoding: 'json' })
      .values()
      .all()
    const store = levelStore({ db, prefix: 'outbox', privateKey })
    const messages = await store.open()
    await store.close()
    return { orders: orders.map((order) => order.k).sort((a, b) => a - b), messages }
  } finally {
    await db.close()
  }
}

/** Delivers whatever the outbox sublevel still holds, with every peer up; returns the ids. */
async function drain(location: string): Promise<string[]> {
  const db = new ClassicLevel<string, string>(location)
  await db.open()
  const delivered: string[] = []
  const outbox = new Outbox({
    transport: { deliver: async (entry) => void delivered.push(entry.id) },
    store: levelStore({ db, prefix: 'outbox', privateKey }),
    policy: definePolicy({ levels: { critical: { maxRetries: 1_000_000 } } })
  })
  try {
    await outbox.start()
    await outbox.whenDrained({ signal: AbortSignal.timeout(30_000) })
  } finally {
    await outbox.stop()
    await db.close()
  }
  return delivered
}

const k = (id: string): number => Number(id.slice(1))

describe('transactional outbox under SIGKILL (record and message in one db.batch)', () => {
  let directory: { path: string; remove(): Promise<void> }

  beforeAll(async () => {
    await assertDistIsFresh()
    directory = await temporaryDirectory()
  })

  afterAll(async () => {
    await directory.remove()
  })

  it(`record and message are both there or neither; every acknowledged order's message is delivered (${KILLS} kills)`, {
    timeout: 240_000
  }, async () => {
    const next = random(SEED)
    const acknowledged = new Set<number>()
    const delivered = new Set<number>()
    let written = 0 // orders 1..written are in the database
    let killedMidRun = 0
    for (let run = 0; run < KILLS; run++) {
      const plan: Kill =
        next() < 0.15
          ? { ready: true }
          : { acks: 1 + Math.floor(next() * 12), delay: Math.floor(next() * 4) }
      const reported = await runAndKill(directory.path, written + 1, plan)
      for (const order of reported.acknowledged) acknowledged.add(order)
      for (const id of reported.delivered) delivered.add(k(id))
      const { orders, messages } = await contents(directory.path)
      const context = `run ${run} (seed ${SEED}, ${JSON.stringify(plan)})`
      const last = Math.max(written, ...reported.acknowledged)
      // every acknowledged order is there, and nothing but them and the batch in flight
      expect(orders, context).toEqual(
        Array.from({ length: orders.length }, (_, index) => index + 1)
      )
      expect([last, last + 1], context).toContain(orders.length)
      if (orders.length === last + 1) killedMidRun++
      const held = new Set(orders)
      for (const message of messages) {
        // no message without its record
        expect(held.has(k(message.id)), `${context}: ${message.id} without order`).toBe(true)
      }
      const queued = new Set(messages.map((message) => k(message.id)))
      for (const order of orders) {
        // no record without its message: still queued, or delivered already
        expect(queued.has(order) || delivered.has(order), `${context}: order ${order}`).toBe(true)
      }
      // nothing delivered that the database does not hold the order of
      for (const order of delivered) expect(held.has(order), `${context}: ${order}`).toBe(true)
      written = orders.length
    }
    for (const id of await drain(directory.path)) delivered.add(k(id))
    const { orders, messages } = await contents(directory.path)
    expect(messages).toEqual([])
    // every order whose batch resolved (and the one in flight that landed) got its message delivered
    for (const order of orders) expect(delivered.has(order), `order ${order}`).toBe(true)
    for (const order of acknowledged) expect(delivered.has(order), `order ${order}`).toBe(true)
    expect(acknowledged.size).toBeGreaterThan(KILLS / 2)
    console.log(
      `${KILLS} kills: ${orders.length} orders written, ${acknowledged.size} acknowledged, the batch in flight landed ${killedMidRun} times`
    )
  })
})

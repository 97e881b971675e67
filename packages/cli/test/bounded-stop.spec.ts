import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  deadAddress,
  dnt,
  eventually,
  keygen,
  listen,
  type Running,
  readJsonl,
  start,
  temporaryDirectory
} from './helpers.js'

const COUNT = Number(process.env.DNT_STOP_MESSAGES ?? 300)
/** Lines the listener must have written between two kills (so each kill lands mid-drain). */
const STEP = Math.max(10, Math.floor(COUNT / 12))
const KILLS = 3
/** Generous bounds against a hang, never a measure of speed. */
const HANG = 45_000

/** Complete lines written to `file` so far (a line being written is not counted). */
function linesIn(file: string): number {
  if (statSync(file, { throwIfNoEntry: false }) === undefined) return 0
  const text = readFileSync(file, 'utf8')
  let count = 0
  for (let index = text.indexOf('\n'); index >= 0; index = text.indexOf('\n', index + 1)) count++
  return count
}

/** Waits until `file` has `lines` lines or `running` exited; true when it is still running. */
async function runUntil(running: Running, file: string, lines: number): Promise<boolean> {
  let exited = false
  void running.closed.then(() => {
    exited = true
  })
  await eventually(() => exited || linesIn(file) >= lines, HANG)
  return !exited
}

describe.each([
  ['raw', 'file'],
  ['envelope', 'level']
] as const)('bounded stops on the command line (%s mode, %s store)', (mode, storeKind) => {
  const directory = temporaryDirectory()
  afterAll(() => directory.remove())

  it(`SIGKILLed flushes mid-drain, then SIGINT to the listener mid-stream: ${COUNT} critical messages, nothing lost`, {
    timeout: 180_000
  }, async () => {
    const path = (name: string) => join(directory.path, name)
    const senderKey = path('sender.key')
    const receiverKey = path('receiver.key')
    await keygen(senderKey)
    const to = await deadAddress(await keygen(receiverKey))
    const listenAddress = to.replace(/\/p2p\/.*$/, '')
    const store = `${storeKind}:${path('store')}`
    const out = path('received.jsonl')
    // quick retries: the test counts messages, it never times them
    writeFileSync(
      path('policy.json'),
      JSON.stringify({ levels: { critical: { backoff: { type: 'fixed', interval: 100 } } } })
    )
    const ids = Array.from({ length: COUNT }, (_, index) => `m-${String(index).padStart(4, '0')}`)
    writeFileSync(
      path('messages.jsonl'),
      ids.map((id) => JSON.stringify({ id, data: `payload of ${id}` })).join('\n')
    )
    const common = ['--key', senderKey, '--store', store, '--policy', path('policy.json')]

    // the receiver is down: everything is queued, durably
    const queued = await dnt(
      [
        'send',
        ...common,
        '--to',
        to,
        '--protocol',
        '/bounded/1.0.0',
        '--jsonl',
        path('messages.jsonl'),
        '--mode',
        mode
      ],
      { timeout: HANG }
    )
    expect(queued.code, queued.stderr).toBe(3)

    const listenArgs = [
      '--key',
      receiverKey,
      '--listen',
      listenAddress,
      '--protocol',
      '/bounded/1.0.0',
      '--jsonl',
      out,
      '--mode',
      mode
    ]
    const first = await listen(listenArgs)
    let target = 0
    for (let round = 0; round < KILLS; round++) {
      const flushing = start(['flush', ...common, '--wait', '60'])
      target = linesIn(out) + STEP
      if (await runUntil(flushing, out, target)) {
        flushing.process.kill('SIGKILL')
      }
      await flushing.closed
    }
    // the last sender streams; the listener is stopped under it, then comes back
    const last = start(['flush', ...common, '--wait', '90'])
    await runUntil(last, out, linesIn(out) + STEP)
    const stopped = await first.stop('SIGINT')
    expect(stopped.code, stopped.stderr).toBe(0)
    expect(stopped.stderr).toMatch(/stopped after \d+ messages?/)
    const second = await listen(listenArgs)
    const flushed = await last.closed
    expect(flushed.code, flushed.stderr).toBe(0)
    const ended = await second.stop('SIGINT')
    expect(ended.code, ended.stderr).toBe(0)

    const records = readJsonl(out)
    const arrived = records.map((record) =>
      mode === 'envelope'
        ? (record.id as string)
        : (record.data as string).slice('payload of '.length)
    )
    // at least once in raw mode; exactly once in envelope mode (the listener dedupes, and its
    // stop answers what it handled before it closes)
    expect(new Set(arrived)).toEqual(new Set(ids))
    if (mode === 'envelope') expect(arrived).toHaveLength(COUNT)
    // nothing is left behind
    const left = await dnt(['inspect', '--key', senderKey, '--store', store, '--json'])
    expect(JSON.parse(left.stdout)).toEqual([])
  })
})

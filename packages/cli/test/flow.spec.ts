import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  deadAddress,
  dnt,
  keygen,
  listen,
  readJsonl,
  start,
  temporaryDirectory,
  writePemKey
} from './helpers.js'

const PROTOCOL = '/dntkit-test/e2e/1.0.0'

/**
 * The end-to-end flow, once per persistent store URI: keygen, send
 * while the receiver is down (exit 3, entries in inspect), receiver up, flush
 * --wait (exit 0), every payload in the listener's JSONL. The three stores
 * share one receiver address and one listener.
 */
describe('send with the receiver down, then flush --wait', () => {
  const directory = temporaryDirectory()
  const senderKey = join(directory.path, 'sender.key')
  const receiverKey = join(directory.path, 'receiver.pem')
  const received = join(directory.path, 'received.jsonl')
  let to: string
  const stores = [
    { uri: `file:${join(directory.path, 'file-store')}`, mode: 'raw' },
    { uri: `level:${join(directory.path, 'level-store')}`, mode: 'envelope' },
    { uri: `oc-discovery:${join(directory.path, 'go', 'dnt_cache.bin')}`, mode: 'raw' }
  ]
  const payloads = (uri: string): string[] =>
    [1, 2, 3].map((index) => `${uri.split(':')[0]} message ${index}`)

  beforeAll(async () => {
    await keygen(senderKey)
    writePemKey(receiverKey)
    const receiver = await dnt(['id', '--key', receiverKey])
    to = await deadAddress(receiver.stdout.trim())
  })

  afterAll(() => directory.remove())

  it('queues every message while the receiver is down (exit 3) and inspect lists them', async () => {
    await Promise.all(
      stores.map(async ({ uri, mode }) => {
        const input = join(directory.path, `${uri.split(':')[0]}.jsonl`)
        const lines = payloads(uri).map((data, index) =>
          JSON.stringify(index === 2 ? { base64: Buffer.from(data).toString('base64') } : { data })
        )
        writeFileSync(input, `${lines.join('\n')}\n`)
        const sent = await dnt([
          'send',
          '--key',
          senderKey,
          '--store',
          uri,
          '--to',
          to,
          '--protocol',
          PROTOCOL,
          '--jsonl',
          input,
          '--mode',
          mode
        ])
        expect(sent.code, sent.stderr).toBe(3)
        expect(sent.stdout).toContain('delivered 0 of 3')
        const inspect = await dnt(['inspect', '--key', senderKey, '--store', uri, '--json'])
        expect(inspect.code, inspect.stderr).toBe(0)
        const entries = JSON.parse(inspect.stdout) as Array<{
          data: string
          level: string
          peer: string
        }>
        expect(entries.map((entry) => entry.data).sort()).toEqual(payloads(uri).sort())
        expect(
          entries.every((entry) => entry.level === 'critical' && to.endsWith(entry.peer))
        ).toBe(true)
        const table = await dnt(['inspect', '--key', senderKey, '--store', uri])
        expect(table.stdout).toMatch(/^ID +PEER +PROTOCOL +LEVEL +ATTEMPTS +AGE +SIZE +LAST ERROR/)
        expect(table.stdout).toContain('3 queued')
        const stats = await dnt(['stats', '--key', senderKey, '--store', uri, '--json'])
        expect(JSON.parse(stats.stdout)).toMatchObject({
          queued: 3,
          peers: 1,
          byLevel: { critical: { entries: 3 } }
        })
      })
    )
  })

  it('delivers everything once the receiver is up: flush --wait exits 0', async () => {
    const address = to.replace(/\/p2p\/.*$/, '')
    const listener = await listen([
      '--key',
      receiverKey,
      '--listen',
      address,
      '--protocol',
      PROTOCOL,
      '--jsonl',
      received
    ])
    try {
      expect(listener.address).toBe(to)
      for (const { uri } of stores) {
        const flushed = await dnt([
          'flush',
          '--key',
          senderKey,
          '--store',
          uri,
          '--wait',
          '10',
          '--json'
        ])
        expect(flushed.code, flushed.stderr).toBe(0)
        expect(JSON.parse(flushed.stdout)).toMatchObject({ delivered: 3, remaining: 0 })
        const inspect = await dnt(['inspect', '--key', senderKey, '--store', uri, '--json'])
        expect(JSON.parse(inspect.stdout)).toEqual([])
      }
    } finally {
      const stopped = await listener.stop()
      expect(stopped.code).toBe(0)
      expect(stopped.stderr).toContain('stopped after 9 messages')
    }
    const lines = readJsonl(received)
    for (const { uri, mode } of stores) {
      for (const data of payloads(uri)) {
        const line = lines.find((candidate) => candidate.data === data)
        expect(line, data).toBeDefined()
        expect(line?.protocol).toBe(PROTOCOL)
        expect(Buffer.from(line?.base64 ?? '', 'base64').toString()).toBe(data)
        expect(line?.id !== undefined).toBe(mode === 'envelope')
        expect(Number.isNaN(Date.parse(line?.receivedAt ?? ''))).toBe(false)
      }
    }
    expect(lines).toHaveLength(9)
  })
})

describe('the memory: store', () => {
  const directory = temporaryDirectory()
  afterAll(() => directory.remove())

  it('queues in memory only (exit 3, with a warning), and send --wait delivers once the receiver appears', async () => {
    const senderKey = join(directory.path, 'sender.key')
    const receiverKey = join(directory.path, 'receiver.key')
    const receiverId = await keygen(receiverKey)
    await keygen(senderKey)
    const to = await deadAddress(receiverId)
    const down = await dnt([
      'send',
      '--key',
      senderKey,
      '--store',
      'memory:',
      '--to',
      to,
      '--protocol',
      PROTOCOL,
      '--data',
      'lost'
    ])
    expect(down.code).toBe(3)
    expect(down.stderr).toContain('warning: 1 queued message is kept only in the memory: store')
    const inspect = await dnt(['inspect', '--key', senderKey, '--store', 'memory:', '--json'])
    expect(JSON.parse(inspect.stdout)).toEqual([])

    const policy = join(directory.path, 'policy.json')
    writeFileSync(
      policy,
      JSON.stringify({ levels: { critical: { backoff: { type: 'fixed', interval: 200 } } } })
    )
    const received = join(directory.path, 'received.jsonl')
    // its outbox's log says when the first attempt has failed (nobody listens yet)
    const waiting = start(
      [
        'send',
        '--key',
        senderKey,
        '--store',
        'memory:',
        '--to',
        to,
        '--protocol',
        PROTOCOL,
        '--data',
        'patient',
        '--policy',
        policy,
        '--wait',
        '20',
        '--mode',
        'envelope'
      ],
      { env: { DEBUG: 'dntkit:outbox' } }
    )
    await new Promise<void>((resolve, reject) => {
      let seen = ''
      const onData = (chunk: string): void => {
        seen += chunk
        if (!/attempt to \S+ failed/.test(seen)) return
        waiting.process.stderr?.off('data', onData)
        resolve()
      }
      waiting.process.stderr?.on('data', onData)
      void waiting.closed.then((result) => reject(new Error(`dnt send ended: ${result.stderr}`)))
    })
    const listener = await listen([
      '--key',
      receiverKey,
      '--listen',
      to.replace(/\/p2p\/.*$/, ''),
      '--protocol',
      PROTOCOL,
      '--jsonl',
      received,
      '--mode',
      'envelope'
    ])
    try {
      const sent = await waiting.closed
      expect(sent.code, sent.stderr).toBe(0)
      expect(sent.stdout).toContain('delivered 1 of 1')
    } finally {
      await listener.stop()
    }
    expect(readJsonl(received).map((line) => line.data)).toEqual(['patient'])
  })
})

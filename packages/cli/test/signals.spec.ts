import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ENVELOPE_PROTOCOL, handleEnvelopes } from '@dntkit/transport-libp2p'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, describe, expect, it } from 'vitest'
import { readKeyFile } from '../src/key-file.js'
import { createNode } from '../src/node.js'
import {
  deadAddress,
  dnt,
  eventually,
  keygen,
  listen,
  start,
  temporaryDirectory
} from './helpers.js'

/** Generous bounds against a hang, never a measure of speed. */
const HANG = 45_000

/** Processes whose command line mentions `text` (Linux: /proc), or undefined where that cannot be read. */
function processesMentioning(text: string): number[] | undefined {
  if (!existsSync('/proc/self/cmdline')) return undefined
  const found: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(text)) found.push(Number(name))
    } catch {
      // ended meanwhile
    }
  }
  return found
}

describe('SIGINT / SIGTERM end every command within a bound', () => {
  const directory = temporaryDirectory()
  afterAll(() => directory.remove())
  const path = (name: string) => join(directory.path, name)

  it.each(['envelope', 'raw'] as const)(
    'dnt listen (%s): a signal with a sender stuck in the middle of a message, exit 0',
    async (mode) => {
      const key = path(`listener-${mode}.key`)
      await keygen(key)
      const listener = await listen([
        '--key',
        key,
        '--listen',
        '/ip4/127.0.0.1/tcp/0',
        '--protocol',
        '/stuck/1.0.0',
        '--mode',
        mode
      ])
      const senderKey = path(`stuck-${mode}.key`)
      await keygen(senderKey)
      const sender = await createNode({ privateKey: readKeyFile(senderKey).privateKey })
      try {
        const stream = await sender.dialProtocol(
          multiaddr(listener.address),
          mode === 'envelope' ? ENVELOPE_PROTOCOL : '/stuck/1.0.0'
        )
        // a frame that announces 100 bytes and brings 3; a raw message that never ends
        stream.send(Uint8Array.of(100, 1, 0, 1))
        const stopped = await listener.stop('SIGINT')
        expect(stopped.code, stopped.stderr).toBe(0)
        expect(stopped.stderr).toContain('stopped after 0 messages')
      } finally {
        await sender.stop()
      }
    }
  )

  it.each([
    ['flush', 'SIGTERM'],
    ['send', 'SIGINT']
  ] as const)(
    'dnt %s --wait: %s while its delivery waits on a receiver that never answers; exit 3, the message kept',
    async (command, signal) => {
      const senderKey = path(`${command}-sender.key`)
      const receiverKey = path(`${command}-receiver.key`)
      await keygen(senderKey)
      const to = await deadAddress(await keygen(receiverKey))
      const store = `file:${path(`${command}-store`)}`
      const policy = path('quick.json')
      writeFileSync(
        policy,
        JSON.stringify({ levels: { critical: { backoff: { type: 'fixed', interval: 100 } } } })
      )
      const common = ['--key', senderKey, '--store', store, '--policy', policy]
      const message = ['--to', to, '--protocol', '/stuck/1.0.0', '--data', 'waits']
      if (command === 'flush') {
        const queued = await dnt(['send', ...common, ...message, '--mode', 'envelope'])
        expect(queued.code, queued.stderr).toBe(3)
      }
      // a receiver whose handler never settles: the delivery hangs until the command stops
      const receiver = await createNode({
        privateKey: readKeyFile(receiverKey).privateKey,
        listen: [to.replace(/\/p2p\/.*$/, '')]
      })
      let called = 0
      const stopServing = await handleEnvelopes(receiver, {
        handlers: {
          '/stuck/1.0.0': () => {
            called++
            return new Promise<void>(() => {})
          }
        },
        stopTimeout: 100
      })
      try {
        const running = start(
          command === 'flush'
            ? ['flush', ...common, '--wait', '600']
            : ['send', ...common, ...message, '--mode', 'envelope', '--wait', '600']
        )
        await eventually(() => called === 1, HANG)
        running.process.kill(signal)
        const result = await running.closed
        expect(result.code, result.stderr).toBe(3)
      } finally {
        await stopServing()
        await receiver.stop()
      }
      const kept = await dnt(['inspect', '--key', senderKey, '--store', store, '--json'])
      expect((JSON.parse(kept.stdout) as unknown[]).length).toBe(1)
    }
  )

  it('dnt demo: SIGINT stops every child it started and exits 1 (an interrupted story proves nothing)', async () => {
    const demo = start(['demo'])
    let stdout = ''
    demo.process.stdout?.on('data', (chunk: Buffer | string) => {
      stdout += chunk.toString()
    })
    // a child is running from step 2 on
    await eventually(() => /2\. The receiver is down/.test(stdout), HANG)
    const where = /in (\S*dntkit-demo-\S+)/.exec(stdout)?.[1] as string
    demo.process.kill('SIGINT')
    const result = await demo.closed
    expect(result.code, result.stderr).toBe(1)
    expect(stdout).toContain('The story was interrupted')
    // no dnt child is left running in the demo's directory
    const left = processesMentioning(where)
    if (left !== undefined) expect(left).toEqual([])
    expect(existsSync(where)).toBe(false)
  })
})

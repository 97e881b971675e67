import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { handleEnvelopes } from '@dntkit/transport-libp2p'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, describe, expect, it } from 'vitest'
import { type CliIo, runCli } from '../src/index.js'
import { readKeyFile } from '../src/key-file.js'
import { createNode } from '../src/node.js'
import { deadAddress, eventually, keygen, temporaryDirectory } from './helpers.js'

function captureIo(tty: boolean): CliIo & { out: () => string; err: () => string } {
  let out = ''
  let err = ''
  return {
    stdout: { write: (text: string) => (out += text), isTTY: tty },
    stderr: { write: (text: string) => (err += text), isTTY: tty, columns: 200 },
    env: {},
    signal: new AbortController().signal,
    out: () => out,
    err: () => err
  }
}

describe('runCli in-process', () => {
  const directory = temporaryDirectory()
  afterAll(() => directory.remove())

  it('shows a progress line on a TTY during --wait, and erases it; exit 3 when time is up', async () => {
    const key = join(directory.path, 'sender.key')
    await keygen(key)
    const to = await deadAddress(await keygen(join(directory.path, 'receiver.key')))
    const io = captureIo(true)
    const args = [
      'send',
      '--key',
      key,
      '--store',
      'memory:',
      '--to',
      to,
      '--protocol',
      '/p/1',
      '--data',
      'x'
    ]
    const code = await runCli([...args, '--wait', '0.6'], io)
    expect(code).toBe(3)
    const erase = '\r\u001b[K'
    expect(io.err()).toContain(`${erase}delivered 0 · queued 1 · failed attempts `)
    expect(io.err()).toMatch(/failed attempts \d+ · 0\.0 msg\/s · \S+ left/)
    // erased before the final warning is printed
    expect(io.err()).toContain(
      `${erase}warning: 1 queued message is kept only in the memory: store`
    )
    expect(io.out()).toContain('delivered 0 of 1')

    const quiet = captureIo(false)
    expect(await runCli([...args, '--wait', '0.3'], quiet)).toBe(3)
    expect(quiet.err()).not.toContain('msg/s')
  })

  it('stops waiting when its signal aborts (SIGINT / SIGTERM in the binary)', async () => {
    const key = join(directory.path, 'sender.key')
    const to = await deadAddress(await keygen(join(directory.path, 'another.key')))
    const controller = new AbortController()
    const io = { ...captureIo(false), signal: controller.signal }
    // whenever it comes (starting, first attempt, waiting), the signal ends the command: with
    // --wait 600 only the signal can end it within the test's timeout
    setTimeout(() => controller.abort(), 300)
    const code = await runCli(
      [
        'send',
        '--key',
        key,
        '--store',
        `file:${join(directory.path, 'store')}`,
        '--to',
        to,
        '--protocol',
        '/p/1',
        '--data',
        'x',
        '--wait',
        '600'
      ],
      io
    )
    expect(code).toBe(3)
  })

  it('send --listen: a peer that connects to us is flushed at once, not after the backoff', async () => {
    const senderKey = join(directory.path, 'sender.key')
    const receiverKey = join(directory.path, 'reacting.key')
    const receiverId = await keygen(receiverKey)
    const to = await deadAddress(receiverId)
    // a minute between retries: only the reaction to the connection can deliver in time
    const policy = join(directory.path, 'slow-policy.json')
    writeFileSync(
      policy,
      JSON.stringify({ levels: { critical: { backoff: { type: 'fixed', interval: 60_000 } } } })
    )
    // a TTY: the progress line says when the first attempt has failed
    const io = captureIo(true)
    const sending = runCli(
      [
        'send',
        '--key',
        senderKey,
        '--store',
        'memory:',
        '--to',
        to,
        '--protocol',
        '/p/1',
        '--data',
        'at once',
        '--policy',
        policy,
        '--wait',
        '30',
        '--mode',
        'envelope',
        '--listen',
        '/ip4/127.0.0.1/tcp/0'
      ],
      io
    )
    await eventually(() => /listening on \S+/.test(io.err()))
    const senderAddress = /listening on (\S+)/.exec(io.err())?.[1] as string
    // the first attempt failed against the closed port: the message waits a minute for its retry
    await eventually(() => /delivered 0 · queued 1 · failed attempts 1 /.test(io.err()))
    const receiver = await createNode({
      privateKey: readKeyFile(receiverKey).privateKey,
      listen: [to.replace(/\/p2p\/.*$/, '')]
    })
    const received: string[] = []
    const stop = await handleEnvelopes(receiver, {
      handlers: {
        '/p/1': (message) => void received.push(new TextDecoder().decode(message.payload))
      }
    })
    try {
      await receiver.dial(multiaddr(senderAddress))
      expect(await sending).toBe(0)
      // exit 0 within --wait 30 although retries are a minute apart: the reaction delivered it
      expect(received).toEqual(['at once'])
    } finally {
      await stop()
      await receiver.stop()
    }
  })
})

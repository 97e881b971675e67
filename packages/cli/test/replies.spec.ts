import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  deadAddress,
  dnt,
  keygen,
  type Listener,
  listen,
  readJsonl,
  temporaryDirectory
} from './helpers.js'

const PROTOCOL = '/dntkit-test/replies/1.0.0'

/** The stdout lines that report replies. */
const replyLines = (stdout: string): string[] =>
  stdout.split('\n').filter((line) => line.startsWith('reply '))

describe('replies: dnt listen --reply answers, dnt send / flush print them, inspect shows what waits', () => {
  const directory = temporaryDirectory()
  const path = (name: string): string => join(directory.path, name)
  const senderKey = path('sender.key')
  const receiverKey = path('receiver.key')
  let receiverPeer: string

  beforeAll(async () => {
    ;[receiverPeer] = await Promise.all([keygen(receiverKey), keygen(senderKey)])
  })

  afterAll(() => directory.remove())

  it('exec: a command answers each message; send prints the reply, or writes it to --reply-out and --json', async () => {
    const listener = await listen([
      '--key',
      receiverKey,
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--protocol',
      PROTOCOL,
      '--reply',
      'exec:tr a-z A-Z; printf " for $DNT_PROTOCOL"'
    ])
    try {
      const store = `file:${path('outbox-exec')}`
      const send = (...rest: string[]) =>
        dnt([
          'send',
          '--key',
          senderKey,
          '--store',
          store,
          '--to',
          listener.address,
          '--protocol',
          PROTOCOL,
          ...rest
        ])
      const envelope = await send('--data', 'hello', '--mode', 'envelope')
      expect(envelope.code, envelope.stderr).toBe(0)
      expect(replyLines(envelope.stdout)).toEqual([
        expect.stringMatching(new RegExp(`^reply \\S+: "HELLO for ${PROTOCOL}"$`))
      ])
      expect(envelope.stdout).toContain('delivered 1 of 1')

      const raw = await send('--data', 'raw one', '--mode', 'raw')
      expect(raw.code, raw.stderr).toBe(0)
      expect(replyLines(raw.stdout)).toEqual([expect.stringMatching(/: "RAW ONE for /)])

      const input = path('two.jsonl')
      writeFileSync(
        input,
        `${JSON.stringify({ id: 'text-1', data: 'abc' })}\n${JSON.stringify({ id: 'binary-1', base64: Buffer.from([0xff, 0xfe]).toString('base64') })}\n`
      )
      const out = path('replies.jsonl')
      const both = await send('--jsonl', input, '--mode', 'envelope', '--reply-out', out, '--json')
      expect(both.code, both.stderr).toBe(0)
      const suffix = Buffer.from(` for ${PROTOCOL}`)
      const binary = Buffer.concat([Buffer.from([0xff, 0xfe]), suffix]).toString('base64')
      const report = JSON.parse(both.stdout) as { messages: Array<{ id: string; reply?: unknown }> }
      expect(report.messages.map((message) => [message.id, message.reply])).toEqual([
        ['text-1', { data: `ABC for ${PROTOCOL}`, base64: expect.any(String) }],
        ['binary-1', { base64: binary }]
      ])
      const lines = readJsonl(out)
      expect(lines.sort((a, b) => (a.id as string).localeCompare(b.id as string))).toEqual([
        { id: 'binary-1', base64: binary },
        {
          id: 'text-1',
          data: `ABC for ${PROTOCOL}`,
          base64: Buffer.from(`ABC for ${PROTOCOL}`).toString('base64')
        }
      ])
    } finally {
      await listener.stop()
    }
  })

  it('a reply kept in the store from an earlier run: inspect shows it and leaves it, flush prints and takes it', async () => {
    const store = `file:${path('outbox-kept')}`
    const reply = path('reply.json')
    writeFileSync(reply, '{"created":true}')
    const to = await deadAddress(receiverPeer)
    const send = (data: string) =>
      dnt([
        'send',
        '--key',
        senderKey,
        '--store',
        store,
        '--to',
        to,
        '--protocol',
        PROTOCOL,
        '--data',
        data
      ])
    // the receiver is down: queued
    expect((await send('earlier')).code).toBe(3)
    let listener: Listener | undefined
    try {
      listener = await listen([
        '--key',
        receiverKey,
        '--listen',
        to.replace(/\/p2p\/.*$/, ''),
        '--protocol',
        PROTOCOL,
        '--reply',
        `file:${reply}`
      ])
      // this run delivers both; it prints and takes the reply of its own message only
      const now = await send('now')
      expect(now.code, now.stderr).toBe(0)
      expect(replyLines(now.stdout)).toEqual([
        expect.stringMatching(/^reply \S+: "\{\\"created\\":true\}"$/)
      ])

      const inspect = await dnt(['inspect', '--key', senderKey, '--store', store])
      expect(inspect.code, inspect.stderr).toBe(0)
      expect(inspect.stdout).toContain('0 queued (0 B), 0 dead-lettered')
      expect(inspect.stdout).toContain(
        '1 reply waiting to be taken (dnt flush prints and takes them)'
      )
      const json = await dnt(['inspect', '--key', senderKey, '--store', store, '--json'])
      const [kept] = JSON.parse(json.stdout) as Array<Record<string, unknown>>
      expect(kept).toMatchObject({
        protocol: PROTOCOL,
        delivered: { atIso: expect.any(String) },
        reply: { data: '{"created":true}' }
      })

      const flushed = await dnt(['flush', '--key', senderKey, '--store', store, '--json'])
      expect(flushed.code, flushed.stderr).toBe(0)
      expect(JSON.parse(flushed.stdout)).toMatchObject({
        delivered: 0,
        remaining: 0,
        replies: [{ id: kept?.id, data: '{"created":true}' }]
      })
      const after = await dnt(['inspect', '--key', senderKey, '--store', store, '--json'])
      expect(JSON.parse(after.stdout)).toEqual([])
    } finally {
      const stopped = await listener?.stop()
      expect(stopped?.stderr).toContain('stopped after 2 messages')
    }
  })
})

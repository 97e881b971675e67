import { chmodSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deadAddress, dnt, keygen, listen, readJsonl, temporaryDirectory } from './helpers.js'

const PROTOCOL = '/dntkit-test/secure/1.0.0'

describe('dnt listen --allow / --allow-file', () => {
  const directory = temporaryDirectory()
  const path = (name: string) => join(directory.path, name)
  const peers: Record<'receiver' | 'friend' | 'stranger', string> = {
    receiver: '',
    friend: '',
    stranger: ''
  }

  beforeAll(async () => {
    await Promise.all(
      (['receiver', 'friend', 'stranger'] as const).map(async (name) => {
        peers[name] = await keygen(path(`${name}.key`))
      })
    )
  })
  afterAll(() => directory.remove())

  it('accepts only allowed peers, refusing others in envelope mode (exit 1 at the sender) and raw mode (reset)', async () => {
    const received = path('received.jsonl')
    const listener = await listen([
      '--key',
      path('receiver.key'),
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--protocol',
      PROTOCOL,
      '--jsonl',
      received,
      '--allow',
      peers.friend
    ])
    const send = (who: 'friend' | 'stranger', mode: 'raw' | 'envelope') =>
      dnt([
        'send',
        '--key',
        path(`${who}.key`),
        '--store',
        'memory:',
        '--to',
        listener.address,
        '--protocol',
        PROTOCOL,
        '--data',
        `${who} ${mode}`,
        '--mode',
        mode
      ])
    const [friendEnvelope, friendRaw, strangerEnvelope, strangerRaw] = await Promise.all([
      send('friend', 'envelope'),
      send('friend', 'raw'),
      send('stranger', 'envelope'),
      send('stranger', 'raw')
    ])
    const stopped = await listener.stop()
    expect(friendEnvelope.code, friendEnvelope.stderr).toBe(0)
    expect(friendRaw.code, friendRaw.stderr).toBe(0)
    // envelope: refused from the header with a reason, never retried
    expect(strangerEnvelope.code).toBe(1)
    expect(strangerEnvelope.stdout + strangerEnvelope.stderr).toMatch(/unauthorized/)
    // raw: the stream is reset, which a raw sender cannot tell from a network failure
    expect(strangerRaw.code).toBe(3)
    expect(
      readJsonl(received)
        .map((record) => record.data)
        .sort()
    ).toEqual(['friend envelope', 'friend raw'])
    expect(stopped.stderr).toContain('accepting messages from 1 peer only')
    expect(stopped.stderr).toContain('stopped after 2 messages; refused 2 from peers not allowed')
  })

  it('reads --allow-file (one peer id a line, # comments) and names the line of a bad one (exit 2)', async () => {
    const good = path('allowed.txt')
    writeFileSync(good, `# who may deliver\n\n${peers.friend}   # the friend\n${peers.stranger}\n`)
    const listener = await listen([
      '--key',
      path('receiver.key'),
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--protocol',
      PROTOCOL,
      '--allow-file',
      good,
      '--allow',
      peers.friend
    ])
    expect((await listener.stop()).stderr).toContain('accepting messages from 2 peers only')

    const bad = path('bad-allowed.txt')
    writeFileSync(bad, `${peers.friend}\n# fine so far\nnot-a-peer-id\n`)
    const empty = path('empty-allowed.txt')
    writeFileSync(empty, '# nobody\n\n')
    const base = ['listen', '--key', path('receiver.key'), '--listen', '/ip4/127.0.0.1/tcp/0']
    const [fromFile, fromFlag, fromEmpty, missing] = await Promise.all([
      dnt([...base, '--protocol', PROTOCOL, '--allow-file', bad]),
      dnt([...base, '--protocol', PROTOCOL, '--allow', peers.friend, '--allow', '12D3KooWnope']),
      dnt([...base, '--protocol', PROTOCOL, '--allow-file', empty]),
      dnt([...base, '--protocol', PROTOCOL, '--allow-file', path('no-such-file')])
    ])
    expect(fromFile.code).toBe(2)
    expect(fromFile.stderr.trim()).toMatch(
      new RegExp(`^dnt listen: --allow-file ${bad} line 3: "not-a-peer-id" is not a valid peer id`)
    )
    expect(fromFlag.code).toBe(2)
    expect(fromFlag.stderr).toMatch(/--allow: "12D3KooWnope" is not a valid peer id/)
    expect(fromEmpty.code).toBe(2)
    expect(fromEmpty.stderr).toMatch(/no peer id in it/)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/no such file/)
  })
})

describe('dnt listen limits', () => {
  const directory = temporaryDirectory()
  const path = (name: string) => join(directory.path, name)
  afterAll(() => directory.remove())

  it('holds both modes to --max-message-bytes: raw reset (still queued), envelope rejected too-large', async () => {
    await keygen(path('receiver.key'))
    await keygen(path('sender.key'))
    const received = path('received.jsonl')
    const listener = await listen([
      '--key',
      path('receiver.key'),
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--protocol',
      PROTOCOL,
      '--jsonl',
      received,
      '--max-message-bytes',
      '1KiB',
      '--max-buffered',
      '8MiB',
      '--idle-timeout',
      '30',
      '--rate-limit',
      '50',
      '--rate-burst',
      '100'
    ])
    const send = (data: string, mode: 'raw' | 'envelope') =>
      dnt([
        'send',
        '--key',
        path('sender.key'),
        '--store',
        'memory:',
        '--to',
        listener.address,
        '--protocol',
        PROTOCOL,
        '--data',
        data,
        '--mode',
        mode
      ])
    const big = 'x'.repeat(2048)
    const [rawBig, envelopeBig, rawSmall, envelopeSmall] = await Promise.all([
      send(big, 'raw'),
      send(big, 'envelope'),
      send('small raw', 'raw'),
      send('small envelope', 'envelope')
    ])
    const stopped = await listener.stop()
    expect(rawBig.code).toBe(3)
    expect(envelopeBig.code).toBe(1)
    expect(envelopeBig.stdout + envelopeBig.stderr).toMatch(/too-large/)
    expect(rawSmall.code, rawSmall.stderr).toBe(0)
    expect(envelopeSmall.code, envelopeSmall.stderr).toBe(0)
    expect(
      readJsonl(received)
        .map((record) => record.data)
        .sort()
    ).toEqual(['small envelope', 'small raw'])
    expect(stopped.stderr).toContain('stopped after 2 messages')
  })

  it('names a bad limit flag, or limits that cannot work together, and exits 2', async () => {
    const key = path('receiver.key')
    const base = [
      'listen',
      '--key',
      key,
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--protocol',
      PROTOCOL
    ]
    const runs = await Promise.all([
      dnt([...base, '--max-message-bytes', '4XB']),
      dnt([...base, '--idle-timeout', '0']),
      dnt([...base, '--rate-limit', 'fast']),
      dnt([...base, '--max-streams-per-peer', '1.5']),
      dnt([...base, '--max-buffered', '1MiB']),
      dnt([...base, '--rate-limit', 'off', '--rate-burst', '10'])
    ])
    expect(runs.map((run) => run.code)).toEqual([2, 2, 2, 2, 2, 2])
    const lines = runs.map((run) => run.stderr.trim())
    expect(lines[0]).toMatch(/--max-message-bytes expects a size in bytes/)
    expect(lines[1]).toMatch(/--idle-timeout expects seconds > 0/)
    expect(lines[2]).toMatch(/--rate-limit expects messages per second > 0 or off, got "fast"/)
    expect(lines[3]).toMatch(/--max-streams-per-peer expects a whole number/)
    expect(lines[4]).toMatch(
      /--max-buffered-per-peer \(1048576\) must hold one frame: --max-message-bytes/
    )
    expect(lines[5]).toMatch(/--rate-burst needs a rate limit/)
    for (const line of lines) expect(line.split('\n')).toHaveLength(1)
  })
})

describe('keys and store files', () => {
  const directory = temporaryDirectory()
  const path = (name: string) => join(directory.path, name)
  afterAll(() => directory.remove())

  it('warns in one line when the key file is readable by group or others; the exit code stays', async () => {
    const key = path('loose.key')
    const peer = await keygen(key)
    expect(statSync(key).mode & 0o777).toBe(0o600)
    const tight = await dnt(['id', '--key', key])
    expect(tight).toMatchObject({ code: 0, stderr: '' })
    chmodSync(key, 0o644)
    const loose = await dnt(['id', '--key', key])
    expect(loose.code).toBe(0)
    expect(loose.stdout.trim()).toBe(peer)
    expect(loose.stderr.trim().split('\n')).toEqual([
      `dnt id: warning: --key ${key} is readable by group or others (mode 644); it holds the node's identity and the root of its store key: chmod 600 ${key}`
    ])
  })

  it('creates file: and level: stores owner-only: directories 0700, files 0600', async () => {
    const key = path('sender.key')
    await keygen(key)
    const to = await deadAddress(await keygen(path('receiver.key')))
    const uris = [
      `file:${path('file-store')}`,
      `level:${join(directory.path, 'nested', 'level-store')}`
    ]
    const results = await Promise.all(
      uris.map((uri) =>
        dnt([
          'send',
          '--key',
          key,
          '--store',
          uri,
          '--to',
          to,
          '--protocol',
          PROTOCOL,
          '--data',
          'x'
        ])
      )
    )
    for (const result of results) expect(result.code, result.stderr).toBe(3)
    for (const root of [path('file-store'), path('nested')]) {
      const entries = [
        root,
        ...readdirSync(root, { recursive: true }).map((name) => join(root, String(name)))
      ]
      for (const entry of entries) {
        const stat = statSync(entry)
        const expected = stat.isDirectory() ? 0o700 : 0o600
        expect(`${entry} ${(stat.mode & 0o777).toString(8)}`).toBe(
          `${entry} ${expected.toString(8)}`
        )
      }
    }
  })
})

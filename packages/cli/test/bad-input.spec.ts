import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import {
  afterAll,
  beforeAll,
  describe,
  type ExpectStatic,
  expect,
  expect as globalExpect,
  it
} from 'vitest'
import {
  BIN,
  deadAddress,
  dnt,
  keygen,
  type Result,
  snapshot,
  temporaryDirectory,
  writePemKey
} from './helpers.js'

const PROTOCOL = '/dntkit-test/bad/1.0.0'

/** One line on stderr, nothing on stdout. */
function expectOneLine(
  result: Result,
  code: number,
  pattern: RegExp,
  expect: ExpectStatic = globalExpect
): void {
  expect(result.code, result.stderr).toBe(code)
  const lines = result.stderr.split('\n').filter((line) => line !== '')
  expect(lines, result.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(pattern)
  expect(lines[0]).not.toMatch(/^\s+at /)
  expect(result.stdout).toBe('')
}

describe('bad input: exit code, one line naming the fault, nothing changed', () => {
  const directory = temporaryDirectory()
  const path = (name: string): string => join(directory.path, name)
  const key = path('sender.key')
  const otherKey = path('other.key')
  const store = `file:${path('store')}`
  let to: string
  let before: Record<string, string>

  beforeAll(async () => {
    const receiver = await keygen(path('receiver.key'))
    await keygen(key)
    await keygen(otherKey)
    to = await deadAddress(receiver)
    // a store with two send batches in it, so a damaged first record is corruption, not a torn tail
    for (const data of ['first', 'second']) {
      const sent = await dnt([
        'send',
        '--key',
        key,
        '--store',
        store,
        '--to',
        to,
        '--protocol',
        PROTOCOL,
        '--data',
        data
      ])
      expect(sent.code).toBe(3)
    }
    writeFileSync(path('not-a-key.txt'), 'this is not a key\n')
    writePemKey(path('rsa.pem'), 'rsa')
    writeFileSync(path('secp256k1.key'), privateKeyToProtobuf(await generateKeyPair('secp256k1')))
    writeFileSync(
      path('broken.jsonl'),
      '{"data":"one"}\n{"base64":"dHdv"}\n{"data": "three"\n{"data":"four"}\n'
    )
    writeFileSync(path('regular-file'), 'not a directory\n')
    writeFileSync(path('bad-policy.json'), '{"levels": {"critical": {"persist": "yes"}}}')
    writeFileSync(path('big-reply.bin'), new Uint8Array(2048))
    before = snapshot(directory.path)
  })

  afterAll(() => directory.remove())

  const send = (...extra: string[]): string[] => [
    'send',
    '--key',
    key,
    '--store',
    store,
    '--to',
    to,
    '--protocol',
    PROTOCOL,
    '--data',
    'x',
    ...extra
  ]
  const replace = (args: string[], flag: string, value: string): string[] =>
    args.map((arg, index) => (args[index - 1] === flag ? value : arg))

  const cases: Array<[string, () => string[], number, RegExp]> = [
    [
      'unknown flag',
      () => send('--bogus'),
      2,
      /^dnt send: unknown flag --bogus \(run "dnt send --help"\)$/
    ],
    [
      'missing required flag',
      () => ['send', '--key', key, '--store', store, '--protocol', PROTOCOL, '--data', 'x'],
      2,
      /missing required flag --to/
    ],
    [
      'malformed multiaddr',
      () => replace(send(), '--to', '/ip4/999.1.1.1/tcp/1'),
      2,
      /--to "\/ip4\/999.1.1.1\/tcp\/1" is not a valid multiaddr/
    ],
    [
      'multiaddr without a peer id',
      () => replace(send(), '--to', '/ip4/127.0.0.1/tcp/1'),
      2,
      /--to .* must end with \/p2p\/PEER_ID/
    ],
    [
      'peer id that is not one',
      () => replace(send(), '--to', '/ip4/127.0.0.1/tcp/1/p2p/QmNotAPeerId'),
      2,
      /"QmNotAPeerId" is not a valid peer id/
    ],
    [
      'key file that is not a key',
      () => replace(send(), '--key', path('not-a-key.txt')),
      2,
      /--key .*not-a-key\.txt: .*neither PEM nor a libp2p protobuf/
    ],
    [
      'PEM key that is not Ed25519',
      () => replace(send(), '--key', path('rsa.pem')),
      2,
      /--key .*rsa\.pem: PEM key is not an Ed25519/
    ],
    [
      'protobuf key that is not Ed25519',
      () => replace(send(), '--key', path('secp256k1.key')),
      2,
      /--key .*secp256k1\.key: key file holds a secp256k1 key/
    ],
    [
      'missing key file',
      () => replace(send(), '--key', path('nope.key')),
      2,
      /--key .*nope\.key: no such file/
    ],
    [
      'JSONL with a broken line',
      () => [
        'send',
        '--key',
        key,
        '--store',
        store,
        '--to',
        to,
        '--protocol',
        PROTOCOL,
        '--jsonl',
        path('broken.jsonl')
      ],
      2,
      /--jsonl .*broken\.jsonl line 3: not valid JSON/
    ],
    [
      'store directory that is a file',
      () => replace(send(), '--store', `file:${path('regular-file')}`),
      2,
      /--store file:.*regular-file is a file, not a directory/
    ],
    [
      'level store directory that is a file',
      () => replace(send(), '--store', `level:${path('regular-file')}`),
      2,
      /is a file, not a directory/
    ],
    [
      'unknown store scheme',
      () => replace(send(), '--store', 'redis://localhost'),
      2,
      /--store "redis:\/\/localhost": unknown store URI/
    ],
    [
      'two payload sources',
      () => send('--file', path('regular-file')),
      2,
      /only one of --data, --file, --jsonl/
    ],
    ['bad --wait', () => send('--wait', 'soon'), 2, /--wait expects a number of seconds/],
    ['bad --mode', () => send('--mode', 'carrier-pigeon'), 2, /--mode must be raw or envelope/],
    ['unknown --level', () => send('--level', 'urgent'), 2, /--level: unknown level "urgent"/],
    [
      'bad policy',
      () => send('--policy', path('bad-policy.json')),
      2,
      /--policy .*bad-policy\.json: policy\.levels\.critical\.persist must be a boolean/
    ],
    [
      'purge without a selector',
      () => ['purge', '--key', key, '--store', store],
      2,
      /one of --id, --peer, --all is required/
    ],
    [
      'purge of an unknown id',
      () => ['purge', '--key', key, '--store', store, '--id', 'no-such-id'],
      2,
      /--id no-such-id: no such entry .*nothing was removed/
    ],
    [
      'purge --peer that is not a peer id',
      () => ['purge', '--key', key, '--store', store, '--peer', 'bob'],
      2,
      /--peer: "bob" is not a valid peer id/
    ],
    [
      'requeue of an unknown dead letter',
      () => ['dead', '--key', key, '--store', store, '--requeue', 'no-such-id'],
      2,
      /--requeue no-such-id: no such dead letter/
    ],
    [
      'migrate into the same store',
      () => ['migrate', '--key', key, '--from', store, '--to', store],
      2,
      /--from and --to name the same place/
    ],
    [
      'listen on a malformed multiaddr',
      () => ['listen', '--key', key, '--listen', 'localhost:4001', '--protocol', PROTOCOL],
      2,
      /--listen "localhost:4001" is not a valid multiaddr/
    ],
    [
      'listen --reply without file: or exec:',
      () => [
        'listen',
        '--key',
        key,
        '--listen',
        '/ip4/127.0.0.1/tcp/0',
        '--protocol',
        PROTOCOL,
        '--reply',
        'ok'
      ],
      2,
      /^dnt listen: flag --reply expects file:PATH or exec:COMMAND, got "ok"$/
    ],
    [
      'listen --reply file: that does not exist',
      () => [
        'listen',
        '--key',
        key,
        '--listen',
        '/ip4/127.0.0.1/tcp/0',
        '--protocol',
        PROTOCOL,
        '--reply',
        `file:${path('nope.json')}`
      ],
      2,
      /--reply file:.*nope\.json: no such file/
    ],
    [
      'listen --reply file: over --max-reply-bytes',
      () => [
        'listen',
        '--key',
        key,
        '--listen',
        '/ip4/127.0.0.1/tcp/0',
        '--protocol',
        PROTOCOL,
        '--reply',
        `file:${path('big-reply.bin')}`,
        '--max-reply-bytes',
        '1KiB'
      ],
      2,
      /--reply file:.*big-reply\.bin has 2048 bytes, over the 1 KiB a reply may have \(--max-reply-bytes\)/
    ],
    [
      'listen --reply exec: without a command',
      () => [
        'listen',
        '--key',
        key,
        '--listen',
        '/ip4/127.0.0.1/tcp/0',
        '--protocol',
        PROTOCOL,
        '--reply',
        'exec: '
      ],
      2,
      /flag --reply exec: needs a command/
    ],
    [
      'send --reply-out in a directory that does not exist',
      () => send('--reply-out', path('no-such-directory/replies.jsonl')),
      2,
      /--reply-out .*replies\.jsonl: cannot open it for appending \(ENOENT\)/
    ],
    [
      'keygen over an existing key',
      () => ['keygen', '--out', key],
      2,
      /--out .*sender\.key: already exists; refusing to overwrite/
    ],
    ['unknown command', () => ['sned'], 2, /^dnt: unknown command "sned"/],
    [
      'wrong key',
      () => ['inspect', '--key', otherKey, '--store', store],
      1,
      /cannot open --store file:.*StoreKeyMismatchError \(DNT_STORE_KEY_MISMATCH\)/
    ]
  ]

  // These open the store, which takes its lock file for a moment: each runs on
  // its own. The rest never get that far and may run side by side.
  const opensStore = new Set([
    'purge of an unknown id',
    'requeue of an unknown dead letter',
    'wrong key'
  ])
  for (const [name, args, code, pattern] of cases) {
    const test = opensStore.has(name) ? it : it.concurrent
    test(`${name}: exit ${code}`, async ({ expect }) => {
      expectOneLine(await dnt(args()), code, pattern, expect)
      expect(snapshot(directory.path)).toEqual(before)
    })
  }

  it('prints the stack only with DNT_DEBUG=1', async () => {
    const result = await dnt(replace(send(), '--key', path('not-a-key.txt')), {
      env: { DNT_DEBUG: '1' }
    })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/\n\s+at /)
  })

  it('corrupt store: exit 1, the store left as it was', async () => {
    const corrupt = path('corrupt')
    // owner-only, as dnt creates store directories: no exposed-directory warning line
    mkdirSync(corrupt, { mode: 0o700 })
    const copy = `file:${corrupt}`
    const migrated = await dnt(['migrate', '--key', key, '--from', store, '--to', copy])
    expect(migrated.code, migrated.stderr).toBe(0)
    const more = await dnt([
      'send',
      '--key',
      key,
      '--store',
      copy,
      '--to',
      to,
      '--protocol',
      PROTOCOL,
      '--data',
      'more'
    ])
    expect(more.code).toBe(3)
    const journal = Object.keys(snapshot(corrupt)).find((name) =>
      name.startsWith('journal-')
    ) as string
    const bytes = readFileSync(join(corrupt, journal))
    const offset = Math.floor(bytes.byteLength / 3)
    bytes[offset] = (bytes[offset] as number) ^ 0xff
    writeFileSync(join(corrupt, journal), bytes)
    const damaged = snapshot(corrupt)
    for (const command of ['inspect', 'flush', 'stats']) {
      expectOneLine(
        await dnt([command, '--key', key, '--store', copy]),
        1,
        /StoreCorruptError \(DNT_STORE_CORRUPT\)/
      )
    }
    expect(snapshot(corrupt)).toEqual(damaged)
  })

  it('a store another dnt holds: read-only commands read it untouched, a writer gets exit 1', async () => {
    for (const locked of [store, `level:${path('level-store')}`]) {
      if (locked.startsWith('level:')) {
        const sent = await dnt([
          'send',
          '--key',
          key,
          '--store',
          locked,
          '--to',
          to,
          '--protocol',
          PROTOCOL,
          '--data',
          'x'
        ])
        expect(sent.code).toBe(3)
      }
      const holder = spawn(
        process.execPath,
        [BIN, 'flush', '--key', key, '--store', locked, '--wait', '60'],
        {
          env: { ...process.env, DEBUG: 'dntkit:outbox' },
          stdio: ['ignore', 'pipe', 'pipe']
        }
      )
      const exited = new Promise<number | null>((resolve) =>
        holder.once('close', (code) => resolve(code))
      )
      // the outbox's debug line once the store is open (and locked): 'started: N queued, ...'
      await new Promise<void>((resolve, reject) => {
        let stderr = ''
        holder.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString()
          if (/dntkit:outbox started: \d+ queued/.test(stderr)) resolve()
        })
        holder.once('close', (code) =>
          reject(new Error(`the holder exited (${code}) before its outbox started: ${stderr}`))
        )
      })
      const held = snapshot(directory.path)
      // read-only: no lock taken, nothing written, the holder goes on
      const inspected = await dnt(['inspect', '--key', key, '--store', locked, '--json'])
      expect(inspected.code, inspected.stderr).toBe(0)
      expect((JSON.parse(inspected.stdout) as unknown[]).length).toBeGreaterThan(0)
      expect(snapshot(directory.path)).toEqual(held)
      // a writer is kept out by the holder's lock
      expectOneLine(
        await dnt(['purge', '--key', key, '--store', locked, '--all']),
        1,
        /StoreLockedError \(DNT_STORE_LOCKED\)/
      )
      if (locked.startsWith('file:')) expect(snapshot(directory.path)).toEqual(held)
      holder.kill('SIGTERM')
      // stopped by a signal while entries remain: they stay queued
      expect(await exited).toBe(3)
    }
  })

  it('level store with the wrong key: exit 1, not one of its files changed', async () => {
    // read-only commands read a private copy: even LevelDB's own LOG and log files stay as they are
    const level = `level:${path('level-store')}`
    const before = snapshot(path('level-store'))
    expectOneLine(
      await dnt(['inspect', '--key', otherKey, '--store', level]),
      1,
      /StoreKeyMismatchError \(DNT_STORE_KEY_MISMATCH\)/
    )
    expect(snapshot(path('level-store'))).toEqual(before)
    const result = await dnt(['inspect', '--key', key, '--store', level, '--json'])
    expect(result.code, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toHaveLength(1)
    expect(snapshot(path('level-store'))).toEqual(before)
  })
})

import { generateKeyPairSync } from 'node:crypto'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPairFromSeed, privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterAll, describe, expect, it } from 'vitest'
import { deadAddress, dnt, keygen, listen, temporaryDirectory } from './helpers.js'

const COMMANDS = [
  'keygen',
  'id',
  'listen',
  'send',
  'flush',
  'inspect',
  'stats',
  'purge',
  'dead',
  'migrate',
  'demo'
]
const PROTOCOL = '/dntkit-test/commands/1.0.0'

describe('keys', () => {
  const directory = temporaryDirectory()
  afterAll(() => directory.remove())

  it('keygen writes a libp2p protobuf Ed25519 key, mode 0600, and prints its peer id', async () => {
    const file = join(directory.path, 'node.key')
    const printed = await keygen(file)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const key = privateKeyFromProtobuf(readFileSync(file))
    expect(key.type).toBe('Ed25519')
    expect(peerIdFromPrivateKey(key).toString()).toBe(printed)
    const id = await dnt(['id', '--key', file, '--json'])
    expect(JSON.parse(id.stdout)).toEqual({ peerId: printed })
  })

  it('id reads a PKCS#8 PEM Ed25519 key as libp2p would', async () => {
    const file = join(directory.path, 'openssl.pem')
    const { privateKey } = generateKeyPairSync('ed25519')
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }))
    const seed = (privateKey.export({ type: 'pkcs8', format: 'der' }) as Buffer).subarray(-32)
    const expected = peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', seed)).toString()
    const id = await dnt(['id', '--key', file])
    expect(id.code, id.stderr).toBe(0)
    expect(id.stdout.trim()).toBe(expected)
  })
})

describe('help', () => {
  it('every command has --help (exit 0)', async () => {
    const results = await Promise.all(COMMANDS.map((command) => dnt([command, '--help'])))
    results.forEach((result, index) => {
      expect(result.code).toBe(0)
      expect(result.stdout).toContain(`Usage: dnt ${COMMANDS[index]}`)
      expect(result.stdout).toContain('-h, --help')
    })
    const main = await dnt(['--help'])
    expect(main.code).toBe(0)
    for (const command of COMMANDS) expect(main.stdout).toMatch(new RegExp(`^  ${command} `, 'm'))
    const bare = await dnt([])
    expect(bare.code).toBe(2)
    expect(bare.stderr).toContain('Usage: dnt COMMAND')
    expect((await dnt(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })
})

describe('listen', () => {
  const directory = temporaryDirectory()
  afterAll(() => directory.remove())

  it('prints JSONL on stdout with --jsonl -, reads --jsonl - from stdin, keeps messages for other protocols queued, exits 0 on SIGTERM', async () => {
    const receiverKey = join(directory.path, 'receiver.key')
    const senderKey = join(directory.path, 'sender.key')
    await keygen(receiverKey)
    const sender = await keygen(senderKey)
    const listener = await listen([
      '--key',
      receiverKey,
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--protocol',
      PROTOCOL,
      '--jsonl',
      '-',
      '--mode',
      'raw'
    ])
    const store = `file:${join(directory.path, 'store')}`
    // the message itself comes from standard input: --jsonl -
    const sent = await dnt(
      [
        'send',
        '--key',
        senderKey,
        '--store',
        store,
        '--to',
        listener.address,
        '--protocol',
        PROTOCOL,
        '--jsonl',
        '-'
      ],
      { input: '{"data":"to stdout"}\n' }
    )
    expect(sent.code, sent.stderr).toBe(0)
    const refused = await dnt([
      'send',
      '--key',
      senderKey,
      '--store',
      store,
      '--to',
      listener.address,
      '--protocol',
      '/dntkit-test/unknown/1.0.0',
      '--data',
      'nobody listens'
    ])
    // a protocol the listener does not serve (yet): not a refusal, the message waits for a handler
    expect(refused.code, refused.stderr).toBe(3)
    const inspect = await dnt(['inspect', '--key', senderKey, '--store', store, '--json'])
    const waiting = JSON.parse(inspect.stdout) as Array<{ protocol: string; lastError?: string }>
    expect(waiting.map((entry) => entry.protocol)).toEqual(['/dntkit-test/unknown/1.0.0'])
    expect(waiting[0]?.lastError).toMatch(/no handler for the protocol/)
    const stopped = await listener.stop()
    expect(stopped.code).toBe(0)
    const lines = stopped.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(lines).toEqual([
      {
        from: sender,
        protocol: PROTOCOL,
        data: 'to stdout',
        base64: Buffer.from('to stdout').toString('base64'),
        receivedAt: expect.any(String)
      }
    ])
  })

  it('prints a human line per message without --jsonl, and send --file sends the bytes of a file', async () => {
    const receiverKey = join(directory.path, 'human.key')
    const senderKey = join(directory.path, 'sender.key')
    await keygen(receiverKey)
    const listener = await listen([
      '--key',
      receiverKey,
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--protocol',
      PROTOCOL
    ])
    const file = join(directory.path, 'payload.txt')
    writeFileSync(file, 'from a file')
    const sent = await dnt([
      'send',
      '--key',
      senderKey,
      '--store',
      'memory:',
      '--to',
      listener.address,
      '--protocol',
      PROTOCOL,
      '--file',
      file,
      '--mode',
      'envelope'
    ])
    expect(sent.code, sent.stderr).toBe(0)
    const stopped = await listener.stop()
    expect(stopped.stdout).toMatch(
      new RegExp(`^\\S+Z 12D3KooW\\S+ ${PROTOCOL} \\S+ "from a file"$`, 'm')
    )
  })

  it('send exits 3 and flush without --wait makes one attempt when the peer is still down', async () => {
    const senderKey = join(directory.path, 'sender.key')
    const to = await deadAddress(
      (await dnt(['id', '--key', join(directory.path, 'human.key')])).stdout.trim()
    )
    const store = `file:${join(directory.path, 'down-store')}`
    const sent = await dnt([
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
      'later'
    ])
    expect(sent.code).toBe(3)
    const flushed = await dnt(['flush', '--key', senderKey, '--store', store, '--json'])
    expect(flushed.code).toBe(3)
    expect(JSON.parse(flushed.stdout)).toMatchObject({ delivered: 0, remaining: 1 })
    const nothing = await dnt([
      'flush',
      '--key',
      senderKey,
      '--store',
      `file:${join(directory.path, 'never-created')}`
    ])
    expect(nothing.code).toBe(0)
    expect(nothing.stdout).toContain('nothing queued')
    expect(
      statSync(join(directory.path, 'never-created'), { throwIfNoEntry: false })
    ).toBeUndefined()
  })
})

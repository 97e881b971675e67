import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { format, inspect } from 'node:util'
import { describeError, type LoggerFactory, Outbox } from '@dntkit/core'
import { deriveKeyBytes } from '@dntkit/core/plugin'
import { fileStore, ocDiscoveryFileStore } from '@dntkit/store-file'
import { levelStore } from '@dntkit/store-level'
import { handleEnvelopes, libp2pTransport } from '@dntkit/transport-libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readKeyFile } from '../src/key-file.js'
import { createNode } from '../src/node.js'
import {
  deadAddress,
  dnt,
  keygen,
  listen,
  type Result,
  readJsonl,
  temporaryDirectory
} from './helpers.js'

const PROTOCOL = '/dntkit-test/secrets/1.0.0'
/** A payload no log line or error message may contain. */
const PAYLOAD = 'PAYLOAD-d1st1nct-7f3a-do-not-log'
const LABELS = ['dntkit/store-file/v1', 'dntkit/store-level/v1', 'oc-discovery/dnt-cache/v1']
/** Everything the CLI logs, and then some. */
const DEBUG_ENV = { DEBUG: 'dntkit:*,libp2p:*', DNT_DEBUG: '1' }

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

function base58(bytes: Uint8Array): string {
  let value = BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`)
  let text = ''
  while (value > 0n) {
    text = BASE58[Number(value % 58n)] + text
    value /= 58n
  }
  for (const byte of bytes) {
    if (byte !== 0) break
    text = `1${text}`
  }
  return text
}

/** How `util.inspect` shows the first bytes: `Uint8Array [ 80, 65, ...` and `<Buffer 50 41 ...`. */
function inspected(name: string, bytes: Uint8Array): Array<[string, string]> {
  const head = Array.from(bytes.subarray(0, 12))
  return [
    [`${name} decimal list`, head.join(',')],
    [`${name} hex list`, head.map((byte) => byte.toString(16).padStart(2, '0')).join('')]
  ]
}

/** The ways a secret could show up in text: hex, base64 (both alphabets), base58btc, as inspected. */
function renderings(name: string, bytes: Uint8Array): Array<[string, string]> {
  const buffer = Buffer.from(bytes)
  const halves = [buffer, buffer.subarray(0, 16)]
  const forms: Array<[string, string]> = []
  for (const part of halves) {
    const which = part.byteLength === buffer.byteLength ? name : `${name} (first 16 bytes)`
    forms.push([`${which} hex`, part.toString('hex')])
    forms.push([`${which} HEX`, part.toString('hex').toUpperCase()])
    forms.push([`${which} base58`, base58(part)])
  }
  forms.push([`${name} base64`, buffer.toString('base64').replace(/=+$/, '')])
  forms.push([`${name} base64url`, buffer.toString('base64url')])
  forms.push(...inspected(name, buffer))
  return forms
}

/** Secrets of a key file: its bytes, its seed, the 64 raw bytes, and every derived store key. */
async function secretsOf(keyFile: string): Promise<Array<[string, string]>> {
  const identity = readKeyFile(keyFile)
  const forms = [
    ...renderings(`${keyFile} file`, readFileSync(keyFile)),
    ...renderings(`${keyFile} seed`, identity.raw.subarray(0, 32)),
    ...renderings(`${keyFile} raw key`, identity.raw)
  ]
  for (const label of LABELS)
    forms.push(...renderings(`${label} key`, await deriveKeyBytes(identity.raw, label)))
  return forms
}

const payloadForms: Array<[string, string]> = [
  ['payload', PAYLOAD],
  ['payload base64', Buffer.from(PAYLOAD).toString('base64').slice(0, 24)],
  ['payload hex', Buffer.from(PAYLOAD).toString('hex').slice(0, 32)],
  ...inspected('payload', Buffer.from(PAYLOAD))
]

/**
 * The names of the secrets found in `text` (empty when none). The text is
 * searched as is and without any white space, so that inspected arrays
 * (`[ 80,  65,\n  89, ...`, `<Buffer 50 41 ...>`) are found too.
 */
function leaks(text: string, secrets: Array<[string, string]>): string[] {
  const compact = text.replace(/\s+/g, '')
  return secrets
    .filter(([, form]) => text.includes(form) || compact.includes(form.replace(/\s+/g, '')))
    .map(([name]) => name)
}

describe('no key, derived key or payload in logs or error messages', () => {
  const directory = temporaryDirectory()
  const path = (name: string) => join(directory.path, name)
  afterAll(() => directory.remove())

  it('derives a distinct store key per store kind, none equal to the identity key', async () => {
    const key = path('identity.key')
    await keygen(key)
    const { raw } = readKeyFile(key)
    const derived = await Promise.all(LABELS.map((label) => deriveKeyBytes(raw, label)))
    const hex = derived.map((bytes) => Buffer.from(bytes).toString('hex'))
    expect(new Set(hex).size).toBe(LABELS.length)
    for (const bytes of hex) {
      expect(bytes).not.toBe(Buffer.from(raw.subarray(0, 32)).toString('hex'))
      expect(bytes).not.toBe(Buffer.from(raw.subarray(32)).toString('hex'))
    }
  })

  it('dnt send / listen / flush / inspect with DEBUG=dntkit:*,libp2p:* and DNT_DEBUG=1', async () => {
    const senderKey = path('sender.key')
    const receiverKey = path('receiver.key')
    const otherKey = path('other.key')
    await Promise.all([keygen(senderKey), keygen(receiverKey), keygen(otherKey)])
    const to = await deadAddress(readKeyFile(receiverKey).peerId)
    const listenAt = to.replace(/\/p2p\/.*$/, '')
    const stores = [
      { uri: `file:${path('file-store')}`, mode: 'envelope' },
      { uri: `level:${path('level-store')}`, mode: 'envelope' },
      { uri: `oc-discovery:${join(directory.path, 'go', 'dnt_cache.bin')}`, mode: 'raw' }
    ]
    const outputs: Result[] = []
    const run = async (args: string[]) => {
      const result = await dnt(args, { env: DEBUG_ENV })
      outputs.push(result)
      return result
    }
    // the receiver is down: each message is queued in its store
    const queued = await Promise.all(
      stores.map(({ uri, mode }) =>
        run([
          'send',
          '--key',
          senderKey,
          '--store',
          uri,
          '--to',
          to,
          '--protocol',
          PROTOCOL,
          '--data',
          `${PAYLOAD} ${uri.split(':')[0]}`,
          '--mode',
          mode
        ])
      )
    )
    for (const result of queued) expect(result.code, result.stderr.slice(-500)).toBe(3)
    // the receiver comes up; flush delivers from each store
    const received = path('received.jsonl')
    const listener = await listen(
      ['--key', receiverKey, '--listen', listenAt, '--protocol', PROTOCOL, '--jsonl', received],
      { env: DEBUG_ENV }
    )
    for (const { uri } of stores) {
      const flushed = await run(['flush', '--key', senderKey, '--store', uri])
      expect(flushed.code, flushed.stderr.slice(-500)).toBe(0)
    }
    // a wrong key: an error with its stack and causes
    const wrong = await run(['inspect', '--key', otherKey, '--store', stores[0]?.uri as string])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/StoreKeyMismatchError|key/)
    outputs.push(await listener.stop())

    // the payloads did travel, and the debug output is there to be searched
    expect(
      readJsonl(received)
        .map((record) => record.data)
        .sort()
    ).toEqual(stores.map(({ uri }) => `${PAYLOAD} ${uri.split(':')[0]}`).sort())
    const text = outputs.map((result) => `${result.stdout}\n${result.stderr}`).join('\n')
    expect(text).toMatch(/dntkit:outbox/)
    expect(text).toMatch(/dntkit:store-file/)
    expect(text).toMatch(/libp2p:/)
    expect(text).toMatch(/at .*\.js:\d+/) // a stack (DNT_DEBUG=1)
    const secrets = [
      ...(await secretsOf(senderKey)),
      ...(await secretsOf(receiverKey)),
      ...(await secretsOf(otherKey)),
      ...payloadForms
    ]
    expect(leaks(text, secrets)).toEqual([])
  })

  describe('the libraries, with a capturing logger', () => {
    const lines: string[] = []
    /** Records every log call, formatted and with each argument inspected in full. */
    const capture: LoggerFactory = (name) => {
      const make =
        (namespace: string) =>
        (formatter: string, ...args: unknown[]) => {
          lines.push(`${namespace} ${format(formatter, ...args)}`)
          for (const arg of args) lines.push(inspect(arg, { depth: 8, maxArrayLength: null }))
        }
      return Object.assign(make(name), {
        error: make(`${name}:error`),
        trace: make(`${name}:trace`),
        enabled: true
      })
    }
    let secrets: Array<[string, string]> = []
    const errors: string[] = []

    beforeAll(async () => {
      for (const name of ['sender', 'receiver', 'other']) await keygen(path(`lib-${name}.key`))
      secrets = [
        ...(await secretsOf(path('lib-sender.key'))),
        ...(await secretsOf(path('lib-receiver.key'))),
        ...payloadForms
      ]
    })

    it('logs and errors of outbox, stores, transport and receiver hold no secret', async () => {
      const sender = readKeyFile(path('lib-sender.key'))
      const receiverIdentity = readKeyFile(path('lib-receiver.key'))
      const other = readKeyFile(path('lib-other.key'))
      const receiverNode = await createNode({
        privateKey: receiverIdentity.privateKey,
        listen: ['/ip4/127.0.0.1/tcp/0']
      })
      const senderNode = await createNode({ privateKey: sender.privateKey })
      const got: string[] = []
      const stopReceiving = await handleEnvelopes(receiverNode, {
        handlers: {
          [PROTOCOL]: (message) => void got.push(Buffer.from(message.payload).toString())
        },
        logger: capture
      })
      const stores = {
        file: () =>
          fileStore({ directory: path('lib-file'), privateKey: sender.raw, logger: capture }),
        level: () =>
          levelStore({ location: path('lib-level'), privateKey: sender.raw, logger: capture }),
        go: () =>
          ocDiscoveryFileStore({
            file: path('lib-go.bin'),
            privateKey: sender.raw,
            logger: capture
          })
      }
      const dead = await deadAddress(other.peerId)
      const target = {
        peer: receiverIdentity.peerId,
        addrs: receiverNode.getMultiaddrs().map((address) => address.toString()),
        protocol: PROTOCOL
      }
      for (const [kind, store] of Object.entries(stores)) {
        const outbox = new Outbox({
          transport: libp2pTransport(senderNode, { mode: 'envelope', logger: capture }),
          store: store(),
          logger: capture,
          attemptTimeout: 2_000
        })
        await outbox.start()
        const payload = Buffer.from(`${PAYLOAD} ${kind}`)
        expect((await outbox.send({ ...target, payload })).status).toBe('delivered')
        const unreachable = {
          peer: other.peerId,
          addrs: [dead.replace(/\/p2p\/.*$/, '')],
          protocol: PROTOCOL
        }
        expect((await outbox.send({ ...unreachable, payload })).status).toBe('queued')
        await outbox.stop()
        // the same store with another node's key
        const wrong =
          kind === 'file'
            ? fileStore({ directory: path('lib-file'), privateKey: other.raw, logger: capture })
            : kind === 'level'
              ? levelStore({ location: path('lib-level'), privateKey: other.raw, logger: capture })
              : ocDiscoveryFileStore({
                  file: path('lib-go.bin'),
                  privateKey: other.raw,
                  logger: capture
                })
        const failure = await wrong.open().then(
          () => undefined,
          (error: unknown) => error
        )
        await wrong.close().catch(() => {})
        expect(failure).toBeInstanceOf(Error)
        errors.push(describeError(failure), inspect(failure, { depth: 8 }))
      }
      await stopReceiving()
      await senderNode.stop()
      await receiverNode.stop()
      expect(got.sort()).toEqual(['file', 'go', 'level'].map((kind) => `${PAYLOAD} ${kind}`))
      expect(lines.length).toBeGreaterThan(20)
      expect(lines.join('\n')).toMatch(/dntkit:outbox/)
      expect(leaks(lines.join('\n'), secrets)).toEqual([])
      expect(leaks(errors.join('\n'), secrets)).toEqual([])
    })
  })
})

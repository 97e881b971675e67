import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { parseFlags } from '../src/arguments.js'
import { listenCommand } from '../src/commands/listen.js'
import { type CliIo, runCli } from '../src/index.js'
import { createNode } from '../src/node.js'
import { RECEIVER_LIMIT_FLAGS, receiverLimits } from '../src/receiver-limits.js'
import { keygen, temporaryDirectory } from './helpers.js'

const PROTOCOL = '/dntkit-test/limits/1.0.0'
const KIB = 1024

const limitsOf = (...argv: string[]) =>
  receiverLimits(
    parseFlags(listenCommand.spec, [
      '--key',
      'k',
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--protocol',
      PROTOCOL,
      ...argv
    ])
  )

describe('dnt listen limit flags -> receiver options', () => {
  it("maps each flag to its option, in the option's unit (seconds -> ms, sizes -> bytes)", () => {
    expect(limitsOf()).toEqual({})
    expect(limitsOf('--idle-timeout', '1.5')).toEqual({ idleTimeout: 1_500 })
    expect(limitsOf('--idle-timeout', '0.0001')).toEqual({ idleTimeout: 1 })
    expect(limitsOf('--max-streams-per-peer', '3')).toEqual({ maxStreamsPerPeer: 3 })
    expect(limitsOf('--max-buffered', '8MiB', '--max-buffered-per-peer', '512KiB')).toEqual({
      maxBufferedBytes: 8 * 1024 * KIB,
      maxBufferedBytesPerPeer: 512 * KIB
    })
    expect(limitsOf('--max-message-bytes', '1k')).toEqual({ maxMessageBytes: KIB })
    expect(limitsOf('--rate-limit', '0.5', '--rate-burst', '7')).toEqual({
      rateLimit: { messagesPerSecond: 0.5, burst: 7 }
    })
    expect(limitsOf('--rate-burst', '7')).toEqual({ rateLimit: { burst: 7 } })
    expect(limitsOf('--rate-limit', 'off')).toEqual({ rateLimit: false })
  })
})

describe("dnt listen's help gives the receiver's defaults, as SECURITY.md lists them", () => {
  const security = readFileSync(new URL('../../../SECURITY.md', import.meta.url), 'utf8')
  /** The default cell of the limits table row that names `flag`, digits and units only. */
  const documented = (flag: string): string => {
    const row = security.split('\n').find((line) => line.includes(`\`${flag}\``))
    return (row?.split(' | ')[1] ?? '').replaceAll(/[ ,]/g, '')
  }
  const helped = (flag: string): string =>
    /\(default ([^;,)]+)/.exec(RECEIVER_LIMIT_FLAGS[flag]?.description ?? '')?.[1] ?? ''

  it('sizes, seconds, counts, rates', () => {
    expect([helped('max-message-bytes'), documented('--max-message-bytes')]).toEqual([
      '4MiB',
      '4MiB'
    ])
    expect([helped('max-buffered'), documented('--max-buffered')]).toEqual(['64MiB', '64MiB'])
    expect([helped('max-buffered-per-peer'), documented('--max-buffered-per-peer')]).toEqual([
      '16MiB',
      '16MiB(mustholdoneframe)'
    ])
    expect([helped('idle-timeout'), documented('--idle-timeout')]).toEqual(['20', '20s'])
    expect([helped('max-streams-per-peer'), documented('--max-streams-per-peer')]).toEqual([
      '8',
      '8envelope+8raw'
    ])
    expect([helped('rate-limit'), helped('rate-burst'), documented('--rate-limit')]).toEqual([
      '1000',
      '50000',
      '1000/ssustainedburst50000'
    ])
  })
})

/** `dnt listen` run in this process, its stderr watched line by line. */
async function listenInProcess(key: string, flags: string[]) {
  const controller = new AbortController()
  let err = ''
  const waiters: Array<{ pattern: RegExp; resolve: (match: RegExpMatchArray) => void }> = []
  const io: CliIo = {
    stdout: { write: () => true },
    stderr: {
      write: (text: string) => {
        err += text
        for (const waiter of [...waiters]) {
          const match = err.match(waiter.pattern)
          if (match !== null) {
            waiters.splice(waiters.indexOf(waiter), 1)
            waiter.resolve(match)
          }
        }
        return true
      }
    },
    env: {},
    signal: controller.signal
  }
  const line = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve) => {
      const match = err.match(pattern)
      if (match !== null) resolve(match)
      else waiters.push({ pattern, resolve })
    })
  const args = ['listen', '--key', key, '--listen', '/ip4/127.0.0.1/tcp/0', '--protocol', PROTOCOL]
  const exited = runCli([...args, ...flags], io)
  const [, address] = (await Promise.race([
    line(/listening on (\S+)/),
    exited.then((code) => {
      throw new Error(`dnt listen exited with ${code}: ${err}`)
    })
  ])) as RegExpMatchArray
  return {
    address: address as string,
    /** Stops it (SIGINT) and resolves to its last line. */
    async stop(): Promise<string> {
      controller.abort()
      expect(await exited).toBe(0)
      return (await line(/stopped after [^\n]*/))[0]
    }
  }
}

const nodes: Libp2p[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.stop()))
})

async function peer(): Promise<Libp2p> {
  const node = await createNode({ privateKey: await generateKeyPair('Ed25519') })
  nodes.push(node)
  return node
}

/** A raw stream that writes `bytes` and stays open; `reset` settles when the receiver reset it. */
async function openRaw(from: Libp2p, address: string, bytes: number) {
  const stream: Stream = await from.dialProtocol(multiaddr(address), PROTOCOL)
  const reset = (async () => {
    try {
      for await (const _chunk of stream) {
        // a raw receiver writes nothing
      }
    } catch {
      return true
    }
    return stream.status === 'reset' || stream.status === 'aborted'
  })()
  try {
    // a stream the receiver refused at once may be closed already
    if (bytes > 0 && stream.writeStatus === 'writable') stream.send(new Uint8Array(bytes))
  } catch {}
  return { stream, reset }
}

/** A raw message written whole and ended; resolves once the receiver closed its side. */
async function sendRaw(from: Libp2p, address: string): Promise<boolean> {
  const { stream, reset } = await openRaw(from, address, 1)
  await stream.close().catch(() => {})
  return !(await reset)
}

describe('dnt listen limit flags take effect (in-process listener, hostile raw peers)', () => {
  const directory = temporaryDirectory()
  afterAll(() => directory.remove())
  const key = join(directory.path, 'receiver.key')

  it('--max-streams-per-peer: a peer holding 3 open streams has 2 of them reset', async () => {
    await keygen(key)
    const listener = await listenInProcess(key, ['--max-streams-per-peer', '1'])
    const sender = await peer()
    const streams = await Promise.all([1, 2, 3].map(() => openRaw(sender, listener.address, 1)))
    // the first two resets, whichever streams they are; the third stream stays open
    await new Promise<void>((resolve) => {
      let resets = 0
      for (const { reset } of streams)
        void reset.then((wasReset) => {
          if (wasReset && ++resets === 2) resolve()
        })
    })
    expect(await listener.stop()).toMatch(/limits hit: too-many-streams 2$/)
  })

  it('--rate-limit / --rate-burst: a burst of 2, then nothing refills for 1,000 s: the third stream is reset', async () => {
    const listener = await listenInProcess(key, ['--rate-limit', '0.001', '--rate-burst', '2'])
    const sender = await peer()
    const delivered: boolean[] = []
    for (let index = 0; index < 3; index++) delivered.push(await sendRaw(sender, listener.address))
    expect(delivered).toEqual([true, true, false])
    expect(await listener.stop()).toMatch(/^stopped after 2 messages; limits hit: rate-limited 1$/)
  })

  it('--max-buffered-per-peer: 3 x 64 KiB held open by one peer pass its 128 KiB share: one stream is reset', async () => {
    const listener = await listenInProcess(key, [
      '--max-message-bytes',
      '64KiB',
      '--max-buffered-per-peer',
      '128KiB'
    ])
    const sender = await peer()
    const streams = await Promise.all(
      [1, 2, 3].map(() => openRaw(sender, listener.address, 64 * KIB))
    )
    await Promise.race(streams.map(({ reset }) => reset))
    expect(await listener.stop()).toMatch(/limits hit: over-budget 1$/)
  })

  it('--max-buffered: 3 x 64 KiB from two peers pass the 128 KiB budget (no peer passes its share): one stream is reset', async () => {
    const listener = await listenInProcess(key, [
      '--max-message-bytes',
      '64KiB',
      '--max-buffered',
      '128KiB'
    ])
    const [first, second] = [await peer(), await peer()]
    const streams = await Promise.all([
      openRaw(first, listener.address, 64 * KIB),
      openRaw(first, listener.address, 64 * KIB),
      openRaw(second, listener.address, 64 * KIB)
    ])
    await Promise.race(streams.map(({ reset }) => reset))
    expect(await listener.stop()).toMatch(/limits hit: over-budget 1$/)
  })

  it('--idle-timeout: a stream that never ends is reset once it passes (0.2 s here, 20 s by default)', async () => {
    const listener = await listenInProcess(key, ['--idle-timeout', '0.2'])
    const sender = await peer()
    const { reset } = await openRaw(sender, listener.address, 1)
    expect(await reset).toBe(true)
    expect(await listener.stop()).toMatch(/^stopped after 0 messages; limits hit: idle 1$/)
  })
})

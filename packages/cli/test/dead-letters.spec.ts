/**
 * An undeliverable dead letter made by the real parts (a libp2p node whose
 * connection gater starts denying the dial while the message waits), then
 * read by `dnt dead` and `dnt inspect --json`: the reason, the whole error and
 * what to do.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { definePolicy, Outbox, parsePrivateKey } from '@dntkit/core'
import { fileStore } from '@dntkit/store-file'
import { libp2pTransport } from '@dntkit/transport-libp2p'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { afterAll, describe, expect, it } from 'vitest'
import { deadAddress, dnt, keygen, temporaryDirectory } from './helpers.js'

describe('undeliverable dead letters in dnt dead and dnt inspect --json', () => {
  const directory = temporaryDirectory()
  const path = (name: string) => join(directory.path, name)
  afterAll(() => directory.remove())

  it('a dial the connection gater denies: its reason, its whole error and the advice', async () => {
    const key = path('node.key')
    await keygen(key)
    const peer = await keygen(path('peer.key'))
    const address = await deadAddress(peer)
    let deny = false
    const node = await createLibp2p({
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: { denyDialMultiaddr: () => deny }
    })
    const store = path('store')
    const outbox = new Outbox({
      transport: libp2pTransport(node),
      store: fileStore({ directory: store, privateKey: parsePrivateKey(readFileSync(key)) }),
      policy: definePolicy({
        levels: { critical: { backoff: { type: 'fixed', interval: 600_000 } } }
      })
    })
    await outbox.start()
    const message = {
      id: 'gated-1',
      peer,
      addrs: [address],
      protocol: '/p/1',
      payload: new Uint8Array(1)
    }
    // nobody listens there: queued, durably
    expect((await outbox.send(message)).status).toBe('queued')
    const abandoned = new Promise<{ reason: string; deadLetter: boolean }>((resolve) =>
      outbox.addEventListener('abandoned', (event) => resolve(event.detail), { once: true })
    )
    deny = true
    await outbox.flush()
    expect(await abandoned).toMatchObject({ reason: 'undeliverable', deadLetter: true })
    await outbox.stop()
    await node.stop()

    const listed = await dnt(['dead', '--key', key, '--store', `file:${store}`])
    expect(listed.code, listed.stderr).toBe(0)
    const lines = listed.stdout.trim().split('\n')
    expect(lines[1]).toMatch(/^gated-1 .* critical .* undeliverable: this address is never dialled/)
    expect(lines).toContain(
      'undeliverable: this node cannot deliver it as configured (see its error: a connection gater that denies the dial, or no transport for its address): fix that, then `dnt dead --requeue ID`'
    )
    const whole = lines.find((line) => line.startsWith('gated-1: undeliverable: '))
    expect(whole).toMatch(
      /^gated-1: undeliverable: this address is never dialled: the connection gater denies it; configure connectionGater\.denyDialMultiaddr .*: message gated-1 to \S+ \(\/p\/1\): /
    )
    expect(lines.at(-1)).toBe('1 dead-lettered')

    const inspected = await dnt(['inspect', '--key', key, '--store', `file:${store}`, '--json'])
    expect(inspected.code, inspected.stderr).toBe(0)
    const [entry] = JSON.parse(inspected.stdout) as Array<{
      id: string
      lastError: string
      deadLetter: { reason: string; advice: string }
    }>
    expect(entry?.id).toBe('gated-1')
    expect(entry?.deadLetter.reason).toBe('undeliverable')
    expect(entry?.deadLetter.advice).toMatch(/^this node cannot deliver it as configured/)
    expect(entry?.lastError).toMatch(
      /^UndeliverableError \(DNT_UNDELIVERABLE\): this address is never dialled: the connection gater denies it/
    )
  })
})

/**
 * The disk under the store fills up (a 4 MiB tmpfs of the test's own, filled
 * with ballast) while the outbox works: it reports `store-error`, keeps every
 * entry it had accepted, refuses new persisted messages with
 * `StoreUnavailableError` (memory-only levels still go), and once the
 * ballast is gone it recovers: new messages are accepted again, a reopened
 * store holds exactly what was accepted, and all of it is delivered.
 */
import {
  definePolicy,
  type Entry,
  Outbox,
  PeerUnreachableError,
  type Store,
  StoreUnavailableError,
  type Transport
} from '@dntkit/core'
import { fileStore } from '@dntkit/store-file'
import { levelStore } from '@dntkit/store-level'
import { afterEach, describe, expect, it } from 'vitest'
import { DISK_BYTES } from '../src/constants.js'
import { identityFor } from '../src/identity.js'
import { mountSmallDisk, type SmallDisk } from '../src/small-disk.js'

const PEER = identityFor('disk-receiver').peerId
const PROTOCOL = '/chaos/disk/1.0.0'
const policy = definePolicy({
  levels: { critical: { backoff: { type: 'fixed', interval: 50 } } }
})

/** A transport to one peer that is down until `up` is set; it records what it delivered. */
function switchableTransport(): Transport & { up: boolean; delivered: string[] } {
  const transport = {
    up: false,
    delivered: [] as string[],
    async deliver(entry: Entry) {
      if (!transport.up) throw new PeerUnreachableError(`${entry.peer} is down`)
      transport.delivered.push(new TextDecoder().decode(entry.payload))
    }
  }
  return transport
}

let disk: SmallDisk | undefined
afterEach(() => {
  disk?.unmount()
  disk = undefined
})

const stores: Record<string, (directory: string) => Store> = {
  file: (directory) => fileStore({ directory, privateKey: identityFor('disk-sender').raw }),
  level: (directory) =>
    levelStore({ location: directory, privateKey: identityFor('disk-sender').raw })
}

describe.each(Object.keys(stores))('disk full under the %s store', (kind) => {
  it('reports store-error, keeps what it had, refuses persisted messages, recovers', async () => {
    disk = mountSmallDisk(DISK_BYTES)
    const directory = `${disk.path}/store`
    const store = stores[kind] as (directory: string) => Store
    const transport = switchableTransport()
    const outbox = new Outbox({ transport, store: store(directory), policy })
    const health: boolean[] = []
    outbox.addEventListener('store-error', (event) => health.push(event.detail.recovered))
    /** The next `store-error` event (with `recovered`: the next one saying so). */
    const nextStoreError = (recovered?: boolean): Promise<void> =>
      new Promise((resolve) => {
        const listener = (event: CustomEvent<{ recovered: boolean }>): void => {
          if (recovered !== undefined && event.detail.recovered !== recovered) return
          outbox.removeEventListener('store-error', listener)
          resolve()
        }
        outbox.addEventListener('store-error', listener)
      })
    await outbox.start()
    const payload = (name: string): Uint8Array =>
      new TextEncoder().encode(`${name}|${'x'.repeat(1_000)}`)
    const send = (name: string, level?: string) =>
      outbox.send(
        { peer: PEER, protocol: PROTOCOL, payload: payload(name) },
        level === undefined ? {} : { level }
      )
    const accepted: string[] = []

    // 1. the peer is down: messages are queued, durably
    for (let index = 0; index < 100; index++) {
      expect((await send(`before/${index}`)).status).toBe('queued')
      accepted.push(`before/${index}`)
    }

    // 2. the disk fills up: the next persisted sends are refused, typed and clearly
    disk.fill()
    let refusal: unknown
    for (let index = 0; index < 1_000 && refusal === undefined; index++) {
      try {
        await send(`full/${index}`)
        accepted.push(`full/${index}`) // what still fitted in the last page of a file
      } catch (error) {
        refusal = error
      }
    }
    expect(StoreUnavailableError.isInstance(refusal), String(refusal)).toBe(true)
    expect((refusal as Error).message).toMatch(/store/)
    expect(health).toContain(false)
    // every later one too, even after the outbox wrote to the store again (after its 1 s backoff):
    // refused at once if that write failed, by its own write if a small one found room
    const events = health.length
    await nextStoreError()
    expect(health.length).toBe(events + 1)
    await expect(send('full/after-probe')).rejects.toSatisfy((error: unknown) =>
      StoreUnavailableError.isInstance(error)
    )
    expect(health.at(-1)).toBe(false)
    // memory-only levels do not need the disk
    expect((await send('full/moderate', 'moderate')).status).toBe('queued')
    // nothing accepted was dropped
    expect(outbox.size).toBe(accepted.length + 1)

    // 3. the disk has room again: the outbox's next write lands, it recovers and accepts persisted messages
    const recovered = nextStoreError(true)
    disk.free()
    await recovered
    for (let index = 0; index < 20; index++) {
      expect((await send(`after/${index}`)).status).toBe('queued')
      accepted.push(`after/${index}`)
    }

    // 4. the store holds exactly what was accepted (the moderate one lives in memory only)
    await outbox.stop()
    const reopened = store(directory)
    const held: string[] = []
    for await (const entry of await reopened.open())
      held.push(new TextDecoder().decode(entry.payload).split('|')[0] as string)
    await reopened.close()
    expect(new Set(held).size, 'no entry stored twice').toBe(held.length)
    expect(held.sort()).toEqual([...new Set(accepted)].sort())

    // 5. and all of it is delivered once the peer is back
    transport.up = true
    const again = new Outbox({ transport, store: store(directory), policy })
    await again.start()
    await again.flush()
    await again.whenDrained()
    await again.stop()
    expect(transport.delivered.map((text) => text.split('|')[0]).sort()).toEqual(
      [...new Set(accepted)].sort()
    )
  })
})

import { memoryStore } from '@dntkit/core'
import { MAX_ID_BYTES, utf8Length } from '@dntkit/core/plugin'
import { testEntry } from '@dntkit/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { libp2pTransport } from '../src/index.js'
import { resolveReceiverInit } from '../src/receiver-options.js'
import { GOOD, serve } from './hostile-peer.js'
import { addrsOf, createNode, stopAll } from './nodes.js'

afterEach(stopAll)

describe("the message-id rule is core's, in UTF-8 bytes, on both sides", () => {
  it("a receiver's default is core's MAX_ID_BYTES", () => {
    expect(resolveReceiverInit({}).maxIdBytes).toBe(MAX_ID_BYTES)
  })

  it('an id of exactly MAX_ID_BYTES in multi-byte characters is delivered, and its dedupe record is durable', async () => {
    const dedupeStore = memoryStore()
    const served = await serve({ dedupe: { store: dedupeStore } })
    const dedupeErrors: unknown[] = []
    served.handle.events.addEventListener('dedupe-error', (event) =>
      dedupeErrors.push(event.detail.error)
    )
    const sender = await createNode()
    const transport = libp2pTransport(sender, { mode: 'envelope' })
    const id = '😀'.repeat(MAX_ID_BYTES / 4)
    expect(utf8Length(id)).toBe(MAX_ID_BYTES)
    const entry = testEntry({
      id,
      peer: served.node.peerId.toString(),
      addrs: addrsOf(served.node),
      protocol: GOOD
    })
    await transport.deliver(entry, { signal: AbortSignal.timeout(10_000) })
    // the same message again: answered from the dedupe window, the handler not run twice
    await transport.deliver(entry, { signal: AbortSignal.timeout(10_000) })
    await transport.close()
    expect(served.handled.map((message) => message.id)).toEqual([id])
    expect(served.handle.stats().duplicates).toBe(1)
    // the record `<sender>/<id>` is longer than a message id: the store takes it all the same
    expect(dedupeErrors).toEqual([])
    await served.handle()
    const records: string[] = []
    for await (const record of await dedupeStore.open()) records.push(record.id)
    expect(records).toEqual([`${sender.peerId}/${id}`])
  })
})

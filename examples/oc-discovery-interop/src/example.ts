import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { describeError, type Entry, Outbox, ocDiscoveryPreset } from '@dntkit/core'
import { fileStore, ocDiscoveryFileStore } from '@dntkit/store-file'
import { libp2pTransport } from '@dntkit/transport-libp2p'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, Stream } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { type GoCacheEntry, goNow, readGoCache, writeGoCache } from './go-cache.js'
import { createNode } from './node.js'
import { CREATE, CRITICAL, DELETE, MODERATE, SEARCH, UPDATE, VERIFY } from './protocols.js'

export interface InteropExampleOptions {
  /** Where `dnt_cache.bin` and the dntkit file store are written. */
  directory: string
  say?: (line: string) => void
  /** ms to wait for the deliveries to the reachable peer (default 10 s). */
  timeout?: number
}

export interface InteropExampleResult {
  /** What dntkit listed in the Go node's file. */
  listed: Entry[]
  /** Payloads the reachable peer received. */
  received: string[]
  /** What the Go reader restores from the file dntkit wrote back. */
  goReadBack: GoCacheEntry[]
  /** What `send()` did with the moderate and the search message. */
  moderateStatus: string
  searchError: string
  /** Entries in dntkit's own store after the migration, and what the Go reader finds then. */
  migrated: Entry[]
  goAfterMigration: GoCacheEntry[]
}

async function waitUntil(predicate: () => boolean, timeout: number, what: string): Promise<void> {
  const deadline = Date.now() + timeout
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function describe(entry: { proto: string; peer: string; payload: Uint8Array; extra: string }) {
  return `${entry.proto.padEnd(31)} to ${entry.peer.slice(-8)}  "${Buffer.from(entry.payload)}"  ${entry.extra}`
}

/** One element as the Go node enqueues it: `retries` stays 0 for critical entries. */
function goEntry(
  proto: string,
  addr: GoCacheEntry['addr'],
  text: string,
  did: string,
  ageMs: number,
  dt?: number
): GoCacheEntry {
  const entry: GoCacheEntry = {
    did,
    addr,
    user: 'admin',
    payload: Buffer.from(text),
    proto,
    retries: 0,
    added_at: goNow(-ageMs)
  }
  if (dt !== undefined) entry.dt = dt
  return entry
}

/** The whole story; every node it starts is stopped before it returns or throws. */
export async function runInteropExample(
  options: InteropExampleOptions
): Promise<InteropExampleResult> {
  const say = options.say ?? (() => {})
  const timeout = options.timeout ?? 30_000
  const file = join(options.directory, 'dnt_cache.bin')
  // one node identity for both implementations: the file key is derived from it
  const nodeKey = await generateKeyPair('Ed25519')
  const alice = await generateKeyPair('Ed25519') // a peer that is up
  const bob = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString() // one that is not
  const nodes: Libp2p[] = []
  try {
    const received: string[] = []
    const aliceNode = await createNode(alice)
    nodes.push(aliceNode)
    for (const protocol of CRITICAL) {
      // an oc-discovery handler reads the request; it never has to close its side
      await aliceNode.handle(protocol, async (stream: Stream) => {
        const chunks: Uint8Array[] = []
        for await (const chunk of stream) chunks.push(chunk.subarray())
        received.push(Buffer.concat(chunks).toString())
      })
    }
    const aliceId = aliceNode.peerId.toString()
    const aliceAddrs = aliceNode
      .getMultiaddrs()
      .map((address) => address.decapsulate('/p2p').toString())
    // nothing listens on port 1 of 127.0.0.1: dials to bob are refused at once
    const bobAddrs = ['/ip4/127.0.0.1/tcp/1']

    say('1. The Go node could not reach its peers and stopped; its dnt_cache.bin holds:')
    const toAlice = { ID: aliceId, Addrs: aliceAddrs }
    const toBob = { ID: bob, Addrs: bobAddrs }
    const goEntries = [
      goEntry(CREATE, toAlice, 'create res-1', 'did:oc:res-1', 90_000, 2),
      goEntry(UPDATE, toAlice, 'update res-1', 'did:oc:res-1', 60_000, 2),
      goEntry(DELETE, toBob, 'delete res-7', 'did:oc:res-7', 30_000)
    ]
    const size = await writeGoCache(file, goEntries, nodeKey.raw)
    say(`   ${file}: ${size} bytes = 12-byte nonce || AES-256-GCM(JSON array) || 16-byte tag`)

    say('2. dntkit lists it (ocDiscoveryFileStore, key derived from the same node key):')
    const listing = ocDiscoveryFileStore({ file, privateKey: nodeKey })
    const listed = await listing.open()
    await listing.close()
    for (const entry of listed) {
      const extra = `level ${entry.level}, attempts ${entry.attempts}, meta ${JSON.stringify(entry.meta)}`
      say(
        `   ${describe({ proto: entry.protocol, peer: entry.peer, payload: entry.payload, extra })}`
      )
    }

    say(
      '3. dntkit takes over: an Outbox on that file with ocDiscoveryPreset() delivers what it can:'
    )
    const sender = await createNode(nodeKey)
    nodes.push(sender)
    const outbox = new Outbox({
      // raw mode with the Go original's point of success: written and closed
      transport: libp2pTransport(sender, { rawSuccess: 'written' }),
      store: ocDiscoveryFileStore({ file, privateKey: nodeKey }),
      // the Go levels: critical persisted forever, moderate 3 retries in memory, others not cached
      policy: ocDiscoveryPreset({ critical: CRITICAL, moderate: MODERATE })
    })
    outbox.addEventListener('delivered', (event) => {
      say(
        `   delivered "${Buffer.from(event.detail.entry.payload)}" to ${event.detail.entry.peer.slice(-8)}`
      )
    })
    await outbox.start()
    await waitUntil(() => received.length === 2, timeout, 'the deliveries to the reachable peer')
    say(`   still queued for the unreachable peer: ${outbox.entries().length}`)

    const created = await outbox.send({
      peer: bob,
      addrs: bobAddrs,
      protocol: CREATE,
      payload: Buffer.from('create res-9'),
      meta: { did: 'did:oc:res-9', user: 'admin', dataType: 5 }
    })
    say(
      `   new critical message -> ${created.status} (written to dnt_cache.bin before send() returned)`
    )
    const moderate = await outbox.send({
      peer: bob,
      addrs: bobAddrs,
      protocol: VERIFY,
      payload: Buffer.from('verify res-9')
    })
    say(`   new moderate message -> ${moderate.status} (in memory only, as in Go)`)
    let searchError = ''
    try {
      await outbox.send({
        peer: bob,
        addrs: bobAddrs,
        protocol: SEARCH,
        payload: Buffer.from('search')
      })
    } catch (error) {
      searchError = describeError(error)
    }
    say('   search message -> not cached; send() throws to the caller:')
    say(`      ${searchError}`)
    await outbox.stop()

    say('4. The Go node starts again and reads the file dntkit wrote back (loadFromDisk):')
    const goReadBack = await readGoCache(file, nodeKey.raw, CRITICAL)
    for (const entry of goReadBack) {
      const extra = `retries ${entry.retries}, added_at ${entry.added_at}, did ${entry.did}, dt ${entry.dt}`
      say(
        `   ${describe({ proto: entry.proto, peer: entry.addr.ID, payload: entry.payload, extra })}`
      )
    }

    say('5. Or the node stays on dntkit: migrate to its own store (put there first, then delete):')
    const from = ocDiscoveryFileStore({ file, privateKey: nodeKey })
    const to = fileStore({ directory: join(options.directory, 'dnt-store'), privateKey: nodeKey })
    const moving = await from.open()
    await to.open()
    // durable in the new store before it leaves the old one: a crash in between duplicates, never loses
    await to.apply({ put: moving })
    await from.apply({ delete: moving.map((entry) => entry.id) })
    await from.close()
    await to.close()
    const check = fileStore({
      directory: join(options.directory, 'dnt-store'),
      privateKey: nodeKey
    })
    const migrated = await check.open()
    await check.close()
    const goAfterMigration = await readGoCache(file, nodeKey.raw, CRITICAL)
    say(
      `   dntkit file store: ${migrated.length} entries; dnt_cache.bin: ${goAfterMigration.length} entries (${(await stat(file)).size} bytes)`
    )
    return {
      listed,
      received,
      goReadBack,
      moderateStatus: moderate.status,
      searchError,
      migrated,
      goAfterMigration
    }
  } finally {
    await Promise.all(nodes.map((node) => node.stop()))
  }
}

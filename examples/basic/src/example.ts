import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { defaultPreset, Outbox } from '@dntkit/core'
import { fileStore } from '@dntkit/store-file'
import { libp2pTransport } from '@dntkit/transport-libp2p'
import type { Libp2p, PrivateKey, Stream } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createNode, freePort, loadOrCreateKey } from './node.js'

/** The application protocol the sender speaks to the receiver. */
export const PROTOCOL = '/dntkit-example/chat/1.0.0'

export interface BasicExampleOptions {
  /** Where the keys and the sender's store live. */
  directory: string
  /** Narration, one line at a time (default: nothing). */
  say?: (line: string) => void
  /** ms to wait for the delivery once the receiver is back (default 10 s). */
  timeout?: number
}

export interface BasicExampleResult {
  sent: string[]
  /** What each `send()` returned while the receiver was down. */
  statuses: string[]
  /** Entries the restarted sender found in its store. */
  restored: number
  /** Texts the receiver got, in order. */
  received: string[]
  /** Files of the store directory while the messages waited. */
  storeFiles: string[]
  /** True if any message text could be read in those files. */
  plaintextOnDisk: boolean
  /** Entries left in the store at the end. */
  leftInStore: number
}

/** The sending side: a libp2p node and an outbox that keeps what it cannot deliver yet. */
async function startSender(directory: string, privateKey: PrivateKey) {
  const node = await createNode(privateKey)
  const outbox = new Outbox({
    // raw mode: each payload on a stream of its own protocol, to any existing handler
    transport: libp2pTransport(node),
    // encrypted, crash-safe files; the key is derived from the node's private key
    store: fileStore({ directory: join(directory, 'outbox'), privateKey }),
    // critical: persisted and retried until delivered
    policy: defaultPreset({ protocols: { [PROTOCOL]: 'critical' } })
  })
  await outbox.start()
  return { node, outbox }
}

/** The receiving side: a plain libp2p protocol handler, unaware of dntkit. */
async function startReceiver(privateKey: PrivateKey, port: number, received: string[]) {
  const node = await createNode(privateKey, port)
  await node.handle(PROTOCOL, async (stream: Stream) => {
    const chunks: Uint8Array[] = []
    for await (const chunk of stream) chunks.push(chunk.subarray())
    received.push(Buffer.concat(chunks).toString())
    // closing our side cleanly is what tells the sender the message arrived
    await stream.close()
  })
  return node
}

async function containsAny(directory: string, files: string[], texts: string[]): Promise<boolean> {
  for (const file of files) {
    const bytes = await readFile(join(directory, file))
    if (texts.some((text) => bytes.includes(Buffer.from(text)))) return true
  }
  return false
}

/** The whole story; every node it starts is stopped before it returns or throws. */
export async function runBasicExample(options: BasicExampleOptions): Promise<BasicExampleResult> {
  const say = options.say ?? (() => {})
  const { directory } = options
  const senderKey = await loadOrCreateKey(join(directory, 'sender.key'))
  const receiverKey = await loadOrCreateKey(join(directory, 'receiver.key'))
  const receiverPort = await freePort()
  const receiverPeer = peerIdFromPrivateKey(receiverKey).toString()
  const target = {
    peer: receiverPeer,
    addrs: [`/ip4/127.0.0.1/tcp/${receiverPort}`],
    protocol: PROTOCOL
  }
  const nodes = new Set<Libp2p>()
  let sender = await startSender(directory, senderKey)
  nodes.add(sender.node)
  try {
    say(`1. The receiver ${receiverPeer} is down (nothing listens on 127.0.0.1:${receiverPort}).`)
    const sent = ['hello 1', 'hello 2', 'hello 3']
    const statuses: string[] = []
    for (const text of sent) {
      const result = await sender.outbox.send({ ...target, payload: Buffer.from(text) })
      statuses.push(result.status)
      say(`   send "${text}" -> ${result.status}`)
    }
    say('   ("queued" means durable: fsynced to the store before send() returned)')

    const storeDirectory = join(directory, 'outbox')
    const storeFiles = (await readdir(storeDirectory)).sort()
    const plaintextOnDisk = await containsAny(storeDirectory, storeFiles, sent)
    const sizes = await Promise.all(
      storeFiles.map(
        async (file) => `${file} (${(await stat(join(storeDirectory, file))).size} bytes)`
      )
    )
    say(`2. On disk, in ${storeDirectory}: ${sizes.join(', ')}`)
    say(`   the texts are ${plaintextOnDisk ? 'READABLE' : 'not readable'} in them (AES-256-GCM)`)

    await sender.outbox.stop()
    await sender.node.stop()
    nodes.delete(sender.node)
    sender = await startSender(directory, senderKey)
    nodes.add(sender.node)
    const restored = sender.outbox.entries().length
    say(`3. The sender restarted (as after a crash or a deploy): ${restored} entries restored.`)

    const received: string[] = []
    sender.outbox.addEventListener('delivered', (event) => {
      const { entry, attempts } = event.detail
      say(`   delivered "${Buffer.from(entry.payload)}" (attempt ${attempts})`)
    })
    const receiver = await startReceiver(receiverKey, receiverPort, received)
    nodes.add(receiver)
    say('4. The receiver is back and connects; the sender flushes its queue at once:')
    const started = Date.now()
    // the connection fires the transport's onReachable: no need to wait for the backoff
    await receiver.dial(sender.node.getMultiaddrs()[0]!)
    await sender.outbox.whenDrained({ signal: AbortSignal.timeout(options.timeout ?? 30_000) })
    say(`   ${received.length} delivered ${Date.now() - started} ms after the receiver connected`)

    await sender.outbox.stop()
    const check = fileStore({ directory: storeDirectory, privateKey: senderKey })
    const leftInStore = (await check.open()).length
    await check.close()
    say(`5. ${leftInStore} entries left in the store: each left it only once delivered.`)
    return { sent, statuses, restored, received, storeFiles, plaintextOnDisk, leftInStore }
  } finally {
    await Promise.all(Array.from(nodes, (node) => node.stop()))
  }
}

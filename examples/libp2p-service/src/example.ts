import type { EnvelopeMessage } from '@dntkit/transport-libp2p'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { createReceiverNode, createSenderNode, ORDERS } from './nodes.js'

export interface ServiceExampleOptions {
  /** Where the sender's outbox and the receiver's dedupe window are stored. */
  directory: string
  say?: (line: string) => void
  /** ms to wait for the queued orders once the receiver is back (default 10 s). */
  timeout?: number
}

export interface ServiceExampleResult {
  /** `send()` results, in the order of the story. */
  results: Array<{ id: string; status: string }>
  /** Order ids the receiver's handler processed, in order. */
  processed: string[]
  /** Message ids the receiver acknowledged as duplicates without calling the handler. */
  duplicates: string[]
}

function order(id: string, item: string) {
  return { id, protocol: ORDERS, payload: Buffer.from(JSON.stringify({ item, quantity: 1 })) }
}

/** The whole story; every node is stopped before it returns or throws. */
export async function runServiceExample(
  options: ServiceExampleOptions
): Promise<ServiceExampleResult> {
  const say = options.say ?? (() => {})
  const processed: string[] = []
  const duplicates: string[] = []
  const results: ServiceExampleResult['results'] = []
  const handler = (message: EnvelopeMessage, from: string): void => {
    // a real handler would write the order to its database here; throwing MessageRefusedError
    // refuses it for good, any other error is retried by the sender
    const { item } = JSON.parse(Buffer.from(message.payload).toString()) as { item: string }
    processed.push(message.id)
    say(`   receiver: processing ${message.id} (${item}) from ${from.slice(-6)}`)
  }
  const receiverKey = await generateKeyPair('Ed25519')
  const running = new Set<Libp2p>()
  const startReceiver = async (port: number) => {
    const node = await createReceiverNode(receiverKey, port, options.directory, handler)
    node.services.dntReceiver.addEventListener('duplicate', (event) => {
      duplicates.push(event.detail.id)
      say(`   receiver: ${event.detail.id} is a duplicate; acknowledged, handler not called`)
    })
    running.add(node)
    return node
  }
  try {
    const senderKey = await generateKeyPair('Ed25519')
    let sender = await createSenderNode(senderKey, options.directory)
    running.add(sender)
    // a crash and a restart: the same identity and outbox directory, a fresh memory
    const restartSender = async () => {
      await sender.stop()
      running.delete(sender)
      sender = await createSenderNode(senderKey, options.directory)
      running.add(sender)
    }
    let receiver = await startReceiver(0)
    const address = receiver.getMultiaddrs()[0]!
    const port = Number(address.getComponents().find((part) => part.name === 'tcp')?.value)
    // a PeerId and a Multiaddr, as libp2p hands them out (strings work too)
    const to = { peer: receiver.peerId, addrs: [multiaddr(`/ip4/127.0.0.1/tcp/${port}`)] }
    const send = async (message: ReturnType<typeof order>) => {
      const result = await sender.services.dnt.send({ ...to, ...message })
      results.push(result)
      say(`   sender: send ${result.id} -> ${result.status}`)
    }

    say('1. The receiver is up: an order goes through node.services.dnt.send().')
    await send(order('order-1001', 'lamp'))

    say(
      '2. The same order again: the sender remembers the id was delivered and does not send it twice:'
    )
    await send(order('order-1001', 'lamp'))

    say(
      '3. The sender crashes before it saw the ack and restarts; the receiver catches the resend:'
    )
    await restartSender()
    await send(order('order-1001', 'lamp'))

    say('4. The receiver goes down; two more orders wait in the sender (encrypted, on disk):')
    await receiver.stop()
    running.delete(receiver)
    await send(order('order-1002', 'desk'))
    await send(order('order-1003', 'chair'))

    say('5. The receiver restarts (same key, same port) and connects; the queue flushes at once:')
    receiver = await startReceiver(port)
    await receiver.dial(sender.getMultiaddrs()[0]!)
    await sender.services.dnt.outbox.whenDrained({
      signal: AbortSignal.timeout(options.timeout ?? 30_000)
    })

    say('6. The sender restarts again and resends order-1001: the restarted receiver remembers it:')
    await restartSender()
    await send(order('order-1001', 'lamp'))
    return { results, processed, duplicates }
  } finally {
    await Promise.all(Array.from(running, (node) => node.stop()))
  }
}

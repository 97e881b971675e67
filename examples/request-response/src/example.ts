import { DeliveryRejectedError } from '@dntkit/core'
import { type EnvelopeHandler, MessageRefusedError } from '@dntkit/transport-libp2p'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p } from '@libp2p/interface'
import { CREATE_ORDER, createClientNode, createShopNode } from './nodes.js'

export interface RequestResponseOptions {
  /** Where the client's outbox and the shop's dedupe window are stored. */
  directory: string
  say?: (line: string) => void
  /** ms to wait for the queued request once the shop is back (default 30 s). */
  timeout?: number
}

export interface RequestResponseResult {
  /** Each request of the story: its id, what `send()` said, and the answer it brought. */
  requests: Array<{ id: string; status: string; answer?: string }>
  /** The answer of the request delivered while nobody waited, taken from the client's store. */
  takenLater: string | undefined
  /** Order ids the shop created, in order (each once). */
  created: string[]
  /** Requests the shop answered from its dedupe window, without creating anything. */
  duplicates: string[]
}

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))
const decode = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes)

/** The whole story; every node is stopped before it returns or throws. */
export async function runRequestResponseExample(
  options: RequestResponseOptions
): Promise<RequestResponseResult> {
  const say = options.say ?? (() => {})
  const { directory } = options
  const created: string[] = []
  const duplicates: string[] = []
  const requests: RequestResponseResult['requests'] = []

  // the shop's handler: what it returns is the answer; MessageRefusedError refuses for good
  const createOrder: EnvelopeHandler = (message) => {
    const order = JSON.parse(new TextDecoder().decode(message.payload)) as {
      item: string
      quantity: number
    }
    if (!(order.quantity >= 1)) {
      throw new MessageRefusedError(`quantity must be at least 1, got ${order.quantity}`, {
        reason: 'invalid-order'
      })
    }
    created.push(message.id) // a real shop writes the order to its database here
    say(`   shop: created ${message.id} (${order.item}) as order #${created.length}`)
    return encode({ orderNumber: created.length, item: order.item })
  }

  const shopKey = await generateKeyPair('Ed25519')
  const clientKey = await generateKeyPair('Ed25519')
  const running = new Set<Libp2p>()
  const startShop = async (port: number) => {
    const node = await createShopNode(shopKey, port, directory, createOrder)
    node.services.dntReceiver.addEventListener('duplicate', (event) => {
      duplicates.push(event.detail.id)
      say(`   shop: ${event.detail.id} again: answered from the dedupe window, nothing created`)
    })
    running.add(node)
    return node
  }
  let client = await createClientNode(clientKey, directory)
  running.add(client)
  // a crash and a restart: the same identity and store, a fresh memory
  const restartClient = async () => {
    await client.stop()
    running.delete(client)
    client = await createClientNode(clientKey, directory)
    running.add(client)
  }
  try {
    let shop = await startShop(0)
    const port = Number(
      shop
        .getMultiaddrs()[0]
        ?.getComponents()
        .find((part) => part.name === 'tcp')?.value
    )
    const to = { peer: shop.peerId, addrs: shop.getMultiaddrs(), protocol: CREATE_ORDER }
    const request = async (id: string, item: string, quantity = 1) => {
      try {
        const result = await client.services.dnt.send({
          ...to,
          id,
          payload: encode({ item, quantity })
        })
        const answer = decode(result.reply)
        requests.push({ id, status: result.status, ...(answer === undefined ? {} : { answer }) })
        say(
          `   client: ${id} -> ${result.status}${answer === undefined ? '' : `, answer ${answer}`}`
        )
      } catch (error) {
        if (!DeliveryRejectedError.isInstance(error)) throw error
        // the shop's reason, as its handler gave it
        requests.push({ id, status: `refused: ${error.reason}` })
        say(`   client: ${id} -> refused (${error.reason}): ${error.message.split(': ').at(-1)}`)
      }
    }

    say('1. The shop is up: the answer (the order number) comes back with the delivery.')
    await request('order-a', 'lamp')

    say('2. The client restarts (it crashed before it kept the answer) and asks again:')
    await restartClient()
    await request('order-a', 'lamp')

    say('3. A request the shop can never accept is refused for good, with its reason:')
    await request('order-bad', 'desk', 0)

    say('4. The shop goes down; the next request waits in the client (encrypted, on disk):')
    await shop.stop()
    running.delete(shop)
    await request('order-b', 'chair')

    say('5. The shop restarts and connects; the request is delivered, its answer kept until taken:')
    const { outbox } = client.services.dnt
    const delivered = new Promise<string | undefined>((resolve) => {
      outbox.addEventListener('delivered', (event) => resolve(decode(event.detail.reply)), {
        once: true
      })
    })
    shop = await startShop(port)
    await shop.dial(client.getMultiaddrs()[0]!)
    await outbox.whenDrained({ signal: AbortSignal.timeout(options.timeout ?? 30_000) })
    say(`   client: delivered order-b, answer ${await delivered} (in the 'delivered' event)`)
    await restartClient()
    const waiting = client.services.dnt.outbox.replies().map((reply) => reply.id)
    say(`   client restarted: answers waiting in its store: ${waiting.join(', ')}`)
    const takenLater = decode(await client.services.dnt.outbox.takeReply('order-b'))
    say(`   client: takeReply('order-b') -> ${takenLater}`)
    return { requests, takenLater, created, duplicates }
  } finally {
    await Promise.all(Array.from(running, (node) => node.stop()))
  }
}

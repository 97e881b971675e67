import type { ReceivedMessage, TransportFixture } from '@dntkit/core/testing'
import { transportSuite } from '@dntkit/core/testing'
import type { Libp2p, Stream } from '@libp2p/interface'
import {
  type DeliveryMode,
  handleEnvelopes,
  libp2pTransport,
  MessageRefusedError
} from '../src/index.js'
import { addrsOf, createNode, fixedKey, portOf, stopAll, stopNode } from './nodes.js'

const PROTOCOL = '/dntkit-test/compliance/1.0.0'
const REJECTING = '/dntkit-test/rejecting/1.0.0'

/** A plain libp2p handler that knows nothing of dntkit: reads everything, then closes. */
function collectRaw(into: ReceivedMessage[], onChange: () => void) {
  return async (stream: Stream): Promise<void> => {
    const chunks: Uint8Array[] = []
    for await (const chunk of stream) chunks.push(chunk.subarray())
    into.push({ protocol: PROTOCOL, payload: Buffer.concat(chunks) })
    onChange()
    await stream.close()
  }
}

async function serve(
  node: Libp2p,
  mode: DeliveryMode,
  into: ReceivedMessage[],
  onChange: () => void
) {
  if (mode === 'raw') {
    await node.handle(PROTOCOL, collectRaw(into, onChange))
    return
  }
  await handleEnvelopes(node, {
    handlers: {
      [PROTOCOL]: (message) => {
        into.push({ protocol: message.protocol, payload: message.payload })
        onChange()
      },
      [REJECTING]: () => {
        throw new MessageRefusedError('this handler refuses everything')
      }
    }
  })
}

async function setup(mode: DeliveryMode): Promise<TransportFixture> {
  const received: ReceivedMessage[] = []
  let waiters: Array<() => void> = []
  const onChange = () => {
    for (const waiter of waiters) waiter()
  }
  const sender = await createNode()
  const receiver = await createNode()
  await serve(receiver, mode, received, onChange)

  // a peer that existed once and is down now: its key and port are known
  const downKey = await fixedKey(mode === 'raw' ? 11 : 12)
  const once = await createNode({ privateKey: downKey })
  const downPort = portOf(once)
  const downPeer = once.peerId.toString()
  await stopNode(once)

  const fixture: TransportFixture = {
    transport: libp2pTransport(sender, { mode }),
    reachable: { peer: receiver.peerId.toString(), addrs: addrsOf(receiver), protocol: PROTOCOL },
    received: (count) =>
      new Promise((resolve) => {
        const check = () => {
          if (received.length < count) return
          waiters = waiters.filter((waiter) => waiter !== check)
          resolve(received.slice(0, count))
        }
        waiters.push(check)
        check()
      }),
    unreachable: { peer: downPeer, addrs: [`/ip4/127.0.0.1/tcp/${downPort}`], protocol: PROTOCOL },
    // only an envelope receiver can refuse a message (its handler throws); a raw receiver can
    // only reset the stream, which the sender retries (DeliveryFailedError, reason reset)
    ...(mode === 'envelope'
      ? {
          rejecting: {
            peer: receiver.peerId.toString(),
            addrs: addrsOf(receiver),
            protocol: REJECTING
          }
        }
      : {}),
    bringUp: async () => {
      const revived = await createNode({ privateKey: downKey, port: downPort })
      await serve(revived, mode, [], () => {})
    }
  }
  return fixture
}

for (const mode of ['raw', 'envelope'] as const) {
  transportSuite(`libp2p ${mode}`, {
    setup: () => setup(mode),
    teardown: async (fixture) => {
      await (fixture.transport as ReturnType<typeof libp2pTransport>).close()
      await stopAll()
    }
  })
}

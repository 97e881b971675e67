/**
 * Many receivers in one process: peer i listens on `ports[i]` with identity
 * `<prefix>-<i>` and takes envelope messages whose payload is `<i>/<seq>`.
 * Commands on stdin (one JSON a line), each answered with `{"done": n}`:
 * `{"down": [i...], "how": "refuse" | "hang"}` (refuse: nothing listens;
 * hang: a TCP server accepts and never answers, like a frozen process),
 * `{"up": [i...]}`, `{"reset": true}` (forget what was received), and
 * `{"report": true}` (answered with `{"report": ...}`).
 */
import { createServer, type Server, type Socket } from 'node:net'
import { handleEnvelopes } from '@dntkit/transport-libp2p'
import type { Libp2p } from '@libp2p/interface'
import { identityFor } from '../identity.js'
import { createChaosNode } from '../node.js'
import { actorOptions, onCommand, report } from './args.js'

export interface PeerFarmOptions {
  prefix: string
  ports: number[]
  protocol: string
}

interface Peer {
  index: number
  port: number
  node?: Libp2p
  stopServing?: () => Promise<void>
  hang?: { server: Server; sockets: Set<Socket> }
  /** Sequence numbers handled, and how many times a handler saw one again. */
  received: Set<number>
  repeats: number
  /** Payloads that did not belong to this peer. */
  strangers: number
}

const options = actorOptions<PeerFarmOptions>()
const peers: Peer[] = options.ports.map((port, index) => ({
  index,
  port,
  received: new Set(),
  repeats: 0,
  strangers: 0
}))

async function up(peer: Peer): Promise<void> {
  if (peer.hang !== undefined) {
    for (const socket of peer.hang.sockets) socket.destroy()
    await new Promise((resolve) => peer.hang?.server.close(resolve))
    peer.hang = undefined
  }
  if (peer.node !== undefined) return
  // handlers first, then listen (see receiver.ts)
  const node = await createChaosNode(
    identityFor(`${options.prefix}-${peer.index}`).privateKey,
    peer.port,
    undefined,
    false
  )
  peer.stopServing = await handleEnvelopes(node, {
    handlers: {
      [options.protocol]: (message) => {
        const text = Buffer.from(message.payload).toString('utf8')
        const [owner, sequence] = text.split('/').map(Number)
        if (owner !== peer.index) peer.strangers++
        else if (peer.received.has(sequence as number)) peer.repeats++
        else peer.received.add(sequence as number)
      }
    }
  })
  await node.start()
  peer.node = node
}

async function down(peer: Peer, how: 'refuse' | 'hang'): Promise<void> {
  if (peer.node !== undefined) {
    const node = peer.node
    peer.node = undefined
    for (const connection of node.getConnections()) connection.abort(new Error('down'))
    await node.stop()
    await peer.stopServing?.().catch(() => {})
  }
  if (how === 'hang' && peer.hang === undefined) {
    const sockets = new Set<Socket>()
    const server = createServer((socket) => {
      // accept, read nothing, answer nothing: a frozen process
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => {})
      socket.pause()
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(peer.port, '127.0.0.1', () => resolve())
    })
    peer.hang = { server, sockets }
  }
}

await Promise.all(peers.map(up))
report({ ready: peers.length })

let queue = Promise.resolve()
onCommand((command) => {
  queue = queue.then(async () => {
    if (Array.isArray(command.down)) {
      const how = command.how === 'hang' ? 'hang' : 'refuse'
      await Promise.all((command.down as number[]).map((index) => down(peers[index] as Peer, how)))
      report({ done: (command.down as number[]).length })
    } else if (Array.isArray(command.up)) {
      await Promise.all((command.up as number[]).map((index) => up(peers[index] as Peer)))
      report({ done: (command.up as number[]).length })
    } else if (command.reset === true) {
      for (const peer of peers) {
        peer.received.clear()
        peer.repeats = 0
        peer.strangers = 0
      }
      report({ done: 0 })
    } else if (command.report === true) {
      report({
        report: peers.map((peer) => ({
          received: peer.received.size,
          repeats: peer.repeats,
          strangers: peer.strangers
        }))
      })
    }
  })
})

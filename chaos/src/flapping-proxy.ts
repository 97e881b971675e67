import { createConnection, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy on 127.0.0.1 that can cut the network: `down()` stops
 * listening and resets every connection through it (RST both ways, as a
 * failing link or a crashed host does); `up()` listens again. Both ends only
 * ever see a refused or reset connection, never a clean close.
 */
export interface FlappingProxy {
  up(): Promise<void>
  down(): Promise<void>
  /** Connections reset by `down()` so far. */
  readonly resets: number
  /** Bytes passed on from the dialling side to the target so far. */
  readonly forwarded: number
  /** Calls `listener` after each chunk passed on to the target; returns a function that stops it. */
  onForward(listener: () => void): () => void
  close(): Promise<void>
}

export function flappingProxy(port: number, targetPort: number): FlappingProxy {
  const sockets = new Set<Socket>()
  let server: Server | undefined
  let resets = 0
  let forwarded = 0
  const forwardListeners = new Set<() => void>()
  const track = (socket: Socket): void => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
  }
  const proxy: FlappingProxy = {
    get resets() {
      return resets
    },
    get forwarded() {
      return forwarded
    },
    onForward(listener) {
      forwardListeners.add(listener)
      return () => forwardListeners.delete(listener)
    },
    async up() {
      if (server !== undefined) return
      const listening = createServer((client) => {
        const target = createConnection(targetPort, '127.0.0.1')
        track(client)
        track(target)
        client.pipe(target)
        target.pipe(client)
        client.on('data', (chunk: Buffer) => {
          forwarded += chunk.byteLength
          for (const listener of forwardListeners) listener()
        })
        // one side failing resets the other, as on a real link
        client.on('close', () => target.resetAndDestroy())
        target.on('close', () => client.resetAndDestroy())
      })
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject)
        listening.listen(port, '127.0.0.1', () => resolve())
      })
      server = listening
    },
    async down() {
      const closing = server
      server = undefined
      const closed = new Promise<void>((resolve) => {
        if (closing === undefined) resolve()
        else closing.close(() => resolve())
      })
      for (const socket of sockets) {
        socket.resetAndDestroy()
        resets++
      }
      await closed
    },
    close: () => proxy.down()
  }
  return proxy
}

import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey, ServiceMap } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2pOptions } from 'libp2p'

/** Every node a test made; `stopAll()` in afterEach stops them. */
const running = new Set<Libp2p>()

/** A fixed Ed25519 key, so a restarted node keeps its peer id. */
export async function fixedKey(index: number): Promise<PrivateKey> {
  const seed = new Uint8Array(32).fill(index & 0xff)
  seed[0] = 0xd7
  return generateKeyPairFromSeed('Ed25519', seed)
}

export interface NodeOptions<T extends ServiceMap> {
  privateKey?: PrivateKey
  /** TCP port on 127.0.0.1 (0: any free one). */
  port?: number
  services?: Libp2pOptions<T>['services']
  identify?: boolean
  metrics?: Libp2pOptions<T>['metrics']
  /** The node's datastore (libp2p's default: in memory). */
  datastore?: Libp2pOptions<T>['datastore']
  /** The node's peer routers (libp2p's default: none). */
  peerRouters?: Libp2pOptions<T>['peerRouters']
}

/** A libp2p node on 127.0.0.1: TCP + noise + yamux (+ identify unless disabled). */
export async function createNode<T extends ServiceMap = ServiceMap>(
  options: NodeOptions<T> = {}
): Promise<Libp2p<T & { identify?: unknown }>> {
  const services = { ...(options.services ?? {}) } as Record<string, unknown>
  if (options.identify !== false) services.identify = identify()
  const node = await createLibp2p({
    ...(options.privateKey == null ? {} : { privateKey: options.privateKey }),
    addresses: { listen: [`/ip4/127.0.0.1/tcp/${options.port ?? 0}`] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // every test peer dials from 127.0.0.1: libp2p's 5 inbound connections per second per host would refuse some
    connectionManager: { inboundConnectionThreshold: 1_000 },
    ...(options.metrics == null ? {} : { metrics: options.metrics }),
    ...(options.datastore == null ? {} : { datastore: options.datastore }),
    ...(options.peerRouters == null ? {} : { peerRouters: options.peerRouters }),
    services: services as Libp2pOptions<T>['services']
  })
  running.add(node as unknown as Libp2p)
  return node as unknown as Libp2p<T & { identify?: unknown }>
}

/** Stops a node and forgets it. */
export async function stopNode(node: Libp2p): Promise<void> {
  running.delete(node)
  await node.stop()
}

export async function stopAll(): Promise<void> {
  const nodes = [...running]
  running.clear()
  await Promise.all(nodes.map((node) => node.stop()))
}

/** The node's TCP port on 127.0.0.1. */
export function portOf(node: Libp2p): number {
  const addr = node.getMultiaddrs()[0]
  if (addr == null) throw new Error('node has no listen address')
  const tcpComponent = addr.getComponents().find((component) => component.name === 'tcp')
  return Number(tcpComponent?.value)
}

/** The node's listen addresses as strings (without /p2p). */
export function addrsOf(node: Libp2p): string[] {
  return node.getMultiaddrs().map((addr) => addr.toString().replace(/\/p2p\/.*$/, ''))
}

/** Resolves when `predicate` is true, polling every 5 ms; rejects after `timeout` ms. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeout = 5_000,
  what = 'condition'
): Promise<void> {
  const start = Date.now()
  while (!(await predicate())) {
    if (Date.now() - start > timeout)
      throw new Error(`timed out after ${timeout} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

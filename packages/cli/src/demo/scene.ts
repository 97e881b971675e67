import { readdirSync, readFileSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, relative } from 'node:path'

/** The protocols of the demo and the levels its policy gives them. */
export const ORDER_PROTOCOL = '/demo/order/1.0.0'
export const PRESENCE_PROTOCOL = '/demo/presence/1.0.0'

/** Milliseconds between retries in the demo (the default preset backs off from 1 s to 5 min). */
export const DEMO_RETRY_INTERVAL = 250

/** The demo's policy file: orders are critical, presence pings moderate, quick retries. */
export const DEMO_POLICY = {
  description: 'dnt demo: orders must arrive, presence pings may be dropped',
  levels: {
    critical: { backoff: { type: 'fixed', interval: DEMO_RETRY_INTERVAL } },
    moderate: { maxRetries: 3, backoff: { type: 'fixed', interval: DEMO_RETRY_INTERVAL } }
  },
  protocols: { [ORDER_PROTOCOL]: 'critical', [PRESENCE_PROTOCOL]: 'moderate' }
}

/** One message of the demo, as a `--jsonl` line. */
export interface DemoMessage {
  id: string
  protocol: string
  data: string
}

/** Orders carry this marker, looked for in the store's bytes to show they are encrypted. */
export const SECRET_MARKER = 'card-ending-4242'

export function orders(count: number): DemoMessage[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `order-${index + 1}`,
    protocol: ORDER_PROTOCOL,
    data: `order #${index + 1}: ${index + 2} x espresso, paid with ${SECRET_MARKER}`
  }))
}

export function presencePings(prefix: string, count: number): DemoMessage[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `${prefix}-${index + 1}`,
    protocol: PRESENCE_PROTOCOL,
    data: `presence ${prefix} #${index + 1}: alice is online`
  }))
}

export function toJsonl(messages: DemoMessage[]): string {
  return messages.map((message) => JSON.stringify(message)).join('\n') + '\n'
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Every file under `path` (a file or a directory) with its size. */
export function filesOf(path: string): Array<{ name: string; size: number; bytes: Buffer }> {
  const stat = statSync(path, { throwIfNoEntry: false })
  if (stat === undefined) return []
  if (stat.isFile()) return [{ name: path, size: stat.size, bytes: readFileSync(path) }]
  const found: Array<{ name: string; size: number; bytes: Buffer }> = []
  for (const entry of readdirSync(path, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const full = join(entry.parentPath ?? path, entry.name)
    found.push({ name: relative(path, full), size: statSync(full).size, bytes: readFileSync(full) })
  }
  return found.sort((left, right) => left.name.localeCompare(right.name))
}

/** The lines of a `dnt listen --jsonl` file. */
export function readReceived(
  path: string
): Array<{ id?: string; protocol: string; data?: string }> {
  const text =
    statSync(path, { throwIfNoEntry: false }) === undefined ? '' : readFileSync(path, 'utf8')
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { id?: string; protocol: string; data?: string })
}

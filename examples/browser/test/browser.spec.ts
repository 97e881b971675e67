import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { build, createServer, type PreviewServer, preview } from 'vite'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { PROTOCOL } from '../src/outbox.js'
import { launchChromium } from './chromium.js'
import { freePort, type Received, receiverKey, startReceiver } from './receiver.js'

// The example page as a user gets it: built by Vite, served by `vite preview` on 127.0.0.1,
// run in headless Chromium (Debian's, driven by playwright-core) against `dnt listen` over
// websockets. Every wait is for a DOM state, with a generous upper bound; none is on timing.

const root = join(import.meta.dirname, '..')
/** Where the screenshot goes (ignored by git). */
const output = join(root, 'test-output')
const WAIT = { timeout: 30_000 }

let work: string
let server: PreviewServer
let origin: string
let browser: { context: BrowserContext; close(): Promise<void> }
let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined
let key: { key: string; peerId: string }
let port: number
let address: string

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dntkit-browser-example-'))
  const outDir = join(work, 'page')
  await build({ root, logLevel: 'warn', build: { outDir, emptyOutDir: true } })
  server = await preview({
    root,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false }
  })
  const url = server.resolvedUrls?.local[0]
  if (url === undefined) throw new Error('vite preview did not say where it listens')
  origin = url.replace(/\/$/, '')
  key = await receiverKey(work)
  port = await freePort()
  address = `/ip4/127.0.0.1/tcp/${port}/ws/p2p/${key.peerId}`
  browser = await launchChromium()
})

afterAll(async () => {
  await receiver?.stop()
  await browser?.close()
  await server?.close()
  if (work !== undefined) await rm(work, { recursive: true, force: true })
})

// a test that failed half-way leaves no tab holding the outbox for the next
afterEach(async () => {
  await Promise.all(browser.context.pages().map((page) => page.close()))
})

async function openPage(query: Record<string, string> = {}): Promise<Page> {
  const page = await browser.context.newPage()
  await page.goto(`${origin}/?${new URLSearchParams({ to: address, ...query })}`)
  return page
}

async function state(page: Page, wanted: string): Promise<void> {
  await page.locator(`#status[data-state="${wanted}"]`).waitFor(WAIT)
}

async function count(page: Page, what: 'queued' | 'delivered' | 'dead', wanted: number) {
  await page.locator(`#${what}[data-count="${wanted}"]`).waitFor(WAIT)
}

async function send(page: Page, text: string): Promise<void> {
  const before = await page.locator('#messages li').count()
  await page.fill('#text', text)
  await page.click('#send')
  await page.locator('#messages li').nth(before).waitFor(WAIT)
}

/** The messages the page lists, in its order. */
function listed(page: Page): Promise<Array<{ id: string; text: string; status: string }>> {
  return page.$$eval('#messages li', (items) =>
    items.map((item) => ({
      id: (item as HTMLElement).dataset.id ?? '',
      text: (item as HTMLElement).dataset.text ?? '',
      status: (item as HTMLElement).dataset.status ?? ''
    }))
  )
}

describe('examples/browser in Chromium', () => {
  it('queues while the receiver is down, keeps the queue across a reload and a closed tab, one tab at a time, and delivers in order', async () => {
    const first = await openPage()
    await state(first, 'running')
    for (const text of ['one', 'two', 'three']) await send(first, text)
    await count(first, 'queued', 3)
    // the receiver is down: the browser's WebSocket failure is a readable error, not {"isTrusted":true}
    const lastError = first.locator('#last-error')
    await lastError.waitFor(WAIT)
    expect(await lastError.getAttribute('data-code')).toBe('DNT_PEER_UNREACHABLE')
    expect(await lastError.textContent()).not.toContain('isTrusted')
    expect(await lastError.textContent()).toMatch(/event/)
    const queued = await listed(first)
    expect(queued.map((item) => [item.text, item.status])).toEqual([
      ['one', 'queued'],
      ['two', 'queued'],
      ['three', 'queued']
    ])

    // reload: the outbox comes back from IndexedDB, same ids, same order
    await first.reload()
    await state(first, 'running')
    await count(first, 'queued', 3)
    expect(await listed(first)).toEqual(queued)

    // a second tab told to fail gets StoreLockedError at once
    const locked = await openPage({ lock: 'fail' })
    await state(locked, 'locked')
    expect(await locked.locator('#error').getAttribute('data-code')).toBe('DNT_STORE_LOCKED')
    await locked.close()

    // a third tab waits; the first goes on sending, then is closed: the third takes over
    const third = await openPage()
    await state(third, 'waiting')
    await send(first, 'four')
    await count(first, 'queued', 4)
    await first.close()
    await state(third, 'running')
    await count(third, 'queued', 4)
    const takenOver = await listed(third)
    expect(takenOver.map((item) => item.text)).toEqual(['one', 'two', 'three', 'four'])

    // the receiver comes up: everything is delivered, in order, once
    receiver = await startReceiver({
      key: key.key,
      port,
      protocol: PROTOCOL,
      jsonl: join(work, 'received.jsonl')
    })
    await count(third, 'delivered', 4)
    await count(third, 'queued', 0)
    const received: Received[] = await receiver.received()
    expect(received.map((record) => record.data)).toEqual(['one', 'two', 'three', 'four'])
    expect(received.map((record) => record.id)).toEqual(takenOver.map((item) => item.id))
    expect(new Set(received.map((record) => record.protocol))).toEqual(new Set([PROTOCOL]))
    // delivered: the last failure is history, and the page no longer shows it
    expect(await third.locator('#last-error').isVisible()).toBe(false)

    await mkdir(output, { recursive: true })
    await third.screenshot({ path: join(output, 'browser-example.png'), fullPage: true })
    await third.close()
  })

  it('another identity (another store key) gets StoreKeyMismatchError and changes nothing', async () => {
    const other = await openPage({ identity: 'someone-else' })
    await state(other, 'error')
    expect(await other.locator('#error').getAttribute('data-code')).toBe('DNT_STORE_KEY_MISMATCH')
    await other.close()
    // the rightful identity still opens it
    const page = await openPage()
    await state(page, 'running')
    await page.close()
  })

  it("with libp2p's default connection gater a loopback receiver is undeliverable: final, never retried", async () => {
    // an address where nothing listens: with the open gater the message just waits (refused dials)
    const nowhere = `/ip4/127.0.0.1/tcp/${await freePort()}/ws/p2p/${key.peerId}`
    const parked = await openPage({ to: nowhere })
    await state(parked, 'running')
    await send(parked, 'parked')
    await count(parked, 'queued', 1)
    await parked.close()

    // the same outbox with libp2p's default gater: the restored entry's dial is denied
    const gated = await openPage({ to: nowhere, gater: 'default' })
    await state(gated, 'running')
    const deadLetter = gated.locator(
      '#messages li[data-status="dead"][data-reason="undeliverable"]'
    )
    // the mapping, seen as the last attempt's error or as the dead letter's
    const denied = gated
      .locator('#last-error[data-reason="dial-denied"]')
      .or(gated.locator('#messages li[data-error-reason="dial-denied"]'))
    await denied.first().waitFor(WAIT)
    expect(await denied.first().textContent()).toMatch(
      /this address is never dialled: the connection gater denies it; configure connectionGater\.denyDialMultiaddr/
    )
    // the outbox treats UndeliverableError as final: a dead letter, reason 'undeliverable'
    await deadLetter.waitFor(WAIT)
    expect(await deadLetter.getAttribute('data-error-code')).toBe('DNT_UNDELIVERABLE')
    await count(gated, 'queued', 0)
    await count(gated, 'dead', 1)

    // a new message to a denied address is never left queued either
    await send(gated, 'denied')
    await gated
      .locator(
        '#messages li[data-text="denied"][data-status="dead"], #messages li[data-text="denied"][data-status="dropped"]'
      )
      .waitFor(WAIT)
    await count(gated, 'queued', 0)
    const delivered = (await receiver!.received()).map((record) => record.data)
    expect(delivered).not.toContain('parked')
    expect(delivered).not.toContain('denied')
  })
})

describe('pnpm start (the Vite dev server)', () => {
  it('serves the page, which opens its outbox', async () => {
    const dev = await createServer({
      root,
      logLevel: 'warn',
      server: { host: '127.0.0.1', port: 0, strictPort: false }
    })
    try {
      await dev.listen()
      const url = dev.resolvedUrls?.local[0]
      if (url === undefined) throw new Error('vite did not say where it listens')
      // another port is another origin: its own IndexedDB and Web Locks
      const page = await browser.context.newPage()
      await page.goto(`${url}?${new URLSearchParams({ to: address })}`)
      // the first visit may reload once while Vite prepares the dependencies
      await page.locator('#status[data-state="running"]').waitFor({ timeout: 60_000 })
      expect(await page.locator('#peer-id').textContent()).toMatch(/^12D3KooW/)
    } finally {
      await dev.close()
    }
  })
})

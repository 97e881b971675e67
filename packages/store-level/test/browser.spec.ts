import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { build } from 'esbuild'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Outcome, StoreSpec } from './browser/harness.js'
import { launchChromium } from './chromium.js'
import { assertDistIsFresh } from './dist.js'

// Two real tabs of one origin in headless Chromium, on real IndexedDB and Web Locks, with the
// package bundled for the browser by esbuild as a user's bundler would (dist/, `browser` condition).

type Harness = {
  startOpen(handle: string, spec: StoreSpec): Promise<void>
  opened(handle: string): Promise<Outcome>
  open(handle: string, spec: StoreSpec): Promise<Outcome>
  reopen(handle: string): Promise<Outcome>
  put(handle: string, ids: string[]): Promise<void>
  close(handle: string): Promise<void>
  locks(): Promise<{ held: string[]; pending: string[] }>
  hideWebLocks(): void
}
type Method = keyof Harness

let server: Server
let origin: string
let browser: { context: BrowserContext; close(): Promise<void> }

beforeAll(async () => {
  await assertDistIsFresh()
  const bundle = await build({
    entryPoints: [join(import.meta.dirname, 'browser/harness.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    logLevel: 'silent'
  })
  const script = bundle.outputFiles[0]!.contents
  const page =
    '<!doctype html><meta charset="utf-8"><script type="module" src="/harness.js"></script>'
  server = createServer((request, response) => {
    if (request.url === '/harness.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(script)
    } else {
      response.writeHead(200, { 'content-type': 'text/html' }).end(page)
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  // http://127.0.0.1 is a secure context: Web Locks are there
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  browser = await launchChromium()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await new Promise((resolve) => server?.close(resolve))
})

/** A new tab on the harness page. */
async function tab(): Promise<Page> {
  const page = await browser.context.newPage()
  await page.goto(origin)
  await page.waitForFunction(() => 'harness' in globalThis)
  return page
}

function call<M extends Method>(
  page: Page,
  method: M,
  ...args: Parameters<Harness[M]>
): Promise<Awaited<ReturnType<Harness[M]>>> {
  return page.evaluate(
    ([name, rest]) =>
      (globalThis as unknown as { harness: Record<string, (...a: unknown[]) => unknown> }).harness[
        name as string
      ]!(...(rest as unknown[])),
    [method, args] as const
  ) as Promise<Awaited<ReturnType<Harness[M]>>>
}

/** Waits until some tab of the origin queues for a Web Lock. */
async function untilWaiting(page: Page): Promise<void> {
  await page.waitForFunction(
    async () => (await navigator.locks.query()).pending?.length === 1,
    undefined,
    { timeout: 20_000 }
  )
}

const code = (outcome: Outcome): string | undefined =>
  'error' in outcome ? outcome.error.code : undefined

describe('in Chromium, across tabs', () => {
  it('a second tab gets StoreLockedError at once; with lock "wait" it takes over from a closed tab, losing nothing', async () => {
    const spec = { location: 'takeover', keyByte: 1 }
    const first = await tab()
    expect(await call(first, 'open', 's', spec)).toEqual({ ids: [] })
    await call(first, 'put', 's', ['m1', 'm2', 'm3'])

    const second = await tab()
    const refused = await call(second, 'open', 's', spec)
    expect(code(refused)).toBe('DNT_STORE_LOCKED')
    expect('error' in refused && refused.error.message).toMatch(/lock: 'wait'/)

    const third = await tab()
    await call(third, 'startOpen', 's', { ...spec, lock: 'wait' })
    await untilWaiting(third)
    // the first tab goes on writing while the third waits
    await call(first, 'put', 's', ['m4'])
    await first.close() // the tab goes away without closing its store
    expect(await call(third, 'opened', 's')).toEqual({ ids: ['m1', 'm2', 'm3', 'm4'] })
    await call(third, 'put', 's', ['m5'])
    expect(code(await call(second, 'open', 'again', spec))).toBe('DNT_STORE_LOCKED')

    await call(third, 'close', 's')
    expect(await call(second, 'open', 'last', spec)).toEqual({
      ids: ['m1', 'm2', 'm3', 'm4', 'm5']
    })
    await call(second, 'close', 'last')
    await Promise.all([second.close(), third.close()])
  })

  it('close() while waiting rejects that open() with StoreClosedError; a failed open lets the lock go', async () => {
    const spec = { location: 'waiting', keyByte: 1 }
    const holder = await tab()
    const other = await tab()
    expect(await call(holder, 'open', 'h', spec)).toEqual({ ids: [] })
    await call(holder, 'put', 'h', ['a'])

    await call(other, 'startOpen', 'w', { ...spec, lock: 'wait' })
    await untilWaiting(other)
    await call(other, 'close', 'w')
    expect(code(await call(other, 'opened', 'w'))).toBe('DNT_STORE_CLOSED')
    expect((await call(other, 'locks')).pending).toEqual([])

    await call(holder, 'close', 'h')
    expect(code(await call(other, 'open', 'wrong-key', { ...spec, keyByte: 2 }))).toBe(
      'DNT_STORE_KEY_MISMATCH'
    )
    expect((await call(other, 'locks')).held).toEqual([])
    expect(await call(other, 'open', 'right-key', spec)).toEqual({ ids: ['a'] })
    // the first store may open again once the other lets go
    expect(code(await call(holder, 'reopen', 'h'))).toBe('DNT_STORE_LOCKED')
    await call(other, 'close', 'right-key')
    expect(await call(holder, 'reopen', 'h')).toEqual({ ids: ['a'] })
    await call(holder, 'close', 'h')
    await Promise.all([holder.close(), other.close()])
  })

  it('one lock for the same IndexedDB database and sublevel, own or an application database; lock "none" takes none', async () => {
    const first = await tab()
    const second = await tab()
    expect(await call(first, 'open', 'app', { appDatabase: 'shared', keyByte: 1 })).toEqual({
      ids: []
    })
    expect(code(await call(second, 'open', 'own', { location: 'shared', keyByte: 1 }))).toBe(
      'DNT_STORE_LOCKED'
    )
    expect(
      await call(second, 'open', 'beside', { appDatabase: 'shared', prefix: 'other', keyByte: 1 })
    ).toEqual({ ids: [] })
    expect(
      await call(second, 'open', 'unlocked', { location: 'shared', keyByte: 1, lock: 'none' })
    ).toEqual({ ids: [] })
    expect((await call(second, 'locks')).held.sort()).toEqual([
      'dntkit/store-level level-js-shared !dntkit!',
      'dntkit/store-level level-js-shared !other!'
    ])
    await Promise.all([first.close(), second.close()])
  })

  it('without Web Locks (not a secure context) a shared database needs lock "none"; memory-level needs no lock', async () => {
    const page = await tab()
    await call(page, 'hideWebLocks')
    const refused = await call(page, 'open', 'own', { location: 'insecure', keyByte: 1 })
    expect('error' in refused && refused.error).toMatchObject({ name: 'TypeError' })
    expect('error' in refused && refused.error.message).toMatch(
      /option `lock` is "fail", which needs Web Locks.*pass lock: 'none' only if/
    )
    const waiting = await call(page, 'open', 'wait', {
      location: 'insecure',
      keyByte: 1,
      lock: 'wait'
    })
    expect('error' in waiting && waiting.error.name).toBe('TypeError')
    expect(await call(page, 'open', 'memory', { memory: true, keyByte: 1 })).toEqual({ ids: [] })
    expect(
      await call(page, 'open', 'none', { location: 'insecure', keyByte: 1, lock: 'none' })
    ).toEqual({ ids: [] })
    await page.close()
  })
})

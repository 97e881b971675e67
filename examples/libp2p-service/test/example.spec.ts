import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runServiceExample } from '../src/example.js'

const run = promisify(execFile)
const root = join(import.meta.dirname, '..')

describe('libp2p-service example', () => {
  let directory: string

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'dntkit-service-test-'))
  })

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true })
  })

  it('processes each order once: duplicates are acked without the handler, across a receiver restart', async () => {
    const result = await runServiceExample({ directory })
    expect(result.results).toEqual([
      { id: 'order-1001', status: 'delivered' },
      { id: 'order-1001', status: 'delivered' },
      { id: 'order-1001', status: 'delivered' },
      { id: 'order-1002', status: 'queued', nextAttemptAt: expect.any(Number) },
      { id: 'order-1003', status: 'queued', nextAttemptAt: expect.any(Number) },
      { id: 'order-1001', status: 'delivered' }
    ])
    expect(result.processed).toEqual(['order-1001', 'order-1002', 'order-1003'])
    expect(result.duplicates).toEqual(['order-1001', 'order-1001'])
  })

  it('runs as `pnpm start` does, narrates the story and exits 0', async () => {
    const { stdout } = await run(join(root, 'node_modules/.bin/tsx'), ['src/main.ts'], {
      cwd: root,
      timeout: 60_000
    })
    expect(stdout).toMatch(/order-1001 is a duplicate; acknowledged, handler not called/)
    expect(stdout).toMatch(/send order-1002 -> queued/)
    expect(stdout).toMatch(/Done: 6 sends, 3 orders processed exactly once, 2 duplicates dropped\./)
  })
})

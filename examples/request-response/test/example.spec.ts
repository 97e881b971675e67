import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runRequestResponseExample } from '../src/example.js'

const run = promisify(execFile)
const root = join(import.meta.dirname, '..')

describe('request-response example', () => {
  let directory: string

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'dntkit-request-response-test-'))
  })

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true })
  })

  it('brings each answer back to its request: at once, again for a retry, later from the store', async () => {
    const result = await runRequestResponseExample({ directory })
    const lamp = '{"orderNumber":1,"item":"lamp"}'
    expect(result.requests).toEqual([
      { id: 'order-a', status: 'delivered', answer: lamp },
      { id: 'order-a', status: 'delivered', answer: lamp },
      { id: 'order-bad', status: 'refused: invalid-order' },
      { id: 'order-b', status: 'queued' }
    ])
    expect(result.takenLater).toBe('{"orderNumber":2,"item":"chair"}')
    expect(result.created).toEqual(['order-a', 'order-b'])
    expect(result.duplicates).toEqual(['order-a'])
  })

  it('runs as `pnpm start` does, narrates the story and exits 0', async () => {
    const { stdout } = await run(join(root, 'node_modules/.bin/tsx'), ['src/main.ts'], {
      cwd: root,
      timeout: 60_000
    })
    expect(stdout).toMatch(/order-a again: answered from the dedupe window, nothing created/)
    expect(stdout).toMatch(/order-bad -> refused \(invalid-order\): quantity must be at least 1/)
    expect(stdout).toMatch(/Done: 4 requests, 2 orders created once each/)
  })
})

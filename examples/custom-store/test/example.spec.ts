import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCustomStoreExample } from '../src/example.js'

const run = promisify(execFile)
const root = join(import.meta.dirname, '..')

describe('custom-store example', () => {
  let directory: string

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'dntkit-custom-store-test-'))
  })

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true })
  })

  it('queues in the SQLite file, restores after a restart and delivers in order', async () => {
    const result = await runCustomStoreExample({ directory })
    expect(result.statuses).toEqual(['queued', 'queued', 'queued'])
    expect(result.rows.map(([position]) => position)).toEqual([1, 2, 3])
    expect(result.restored).toBe(3)
    expect(result.delivered).toEqual(['first', 'second', 'third'])
    expect(result.leftInStore).toBe(0)
  })

  it('runs as `pnpm start` does, narrates the story and exits 0', async () => {
    const { stdout } = await run(join(root, 'node_modules/.bin/tsx'), ['src/main.ts'], {
      cwd: root,
      timeout: 60_000
    })
    expect(stdout).toMatch(/restored 3 entries/)
    expect(stdout).toMatch(/Done: queued in SQLite, restored after the restart, delivered in order/)
  })
})

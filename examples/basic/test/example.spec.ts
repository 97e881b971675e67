import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runBasicExample } from '../src/example.js'

const run = promisify(execFile)
const root = join(import.meta.dirname, '..')

describe('basic example', () => {
  let directory: string

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'dntkit-basic-test-'))
  })

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true })
  })

  it('queues durably while the receiver is down and delivers everything, in order, once it is back', async () => {
    const lines: string[] = []
    const result = await runBasicExample({ directory, say: (line) => lines.push(line) })
    expect(result.statuses).toEqual(['queued', 'queued', 'queued'])
    expect(result.restored).toBe(3)
    expect(result.storeFiles.some((file) => file.startsWith('journal-'))).toBe(true)
    expect(result.plaintextOnDisk).toBe(false)
    expect(result.received).toEqual(result.sent)
    expect(result.leftInStore).toBe(0)
    expect(lines.join('\n')).toMatch(/3 entries restored/)
  })

  it('runs as `pnpm start` does, narrates the story and exits 0', async () => {
    const { stdout } = await run(join(root, 'node_modules/.bin/tsx'), ['src/main.ts'], {
      cwd: root,
      timeout: 60_000
    })
    expect(stdout).toMatch(/send "hello 1" -> queued/)
    expect(stdout).toMatch(/3 entries restored/)
    expect(stdout).toMatch(/Done: 3\/3 delivered, in order, none lost\./)
  })
})

import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runInteropExample } from '../src/example.js'
import { CREATE, DELETE } from '../src/protocols.js'

const run = promisify(execFile)
const root = join(import.meta.dirname, '..')
const text = (payload: Uint8Array) => Buffer.from(payload).toString()

describe('oc-discovery-interop example', () => {
  let directory: string

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'dntkit-oc-discovery-test-'))
  })

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true })
  })

  it('reads the Go file, delivers, writes back what the Go reader restores, and migrates', async () => {
    const result = await runInteropExample({ directory })
    expect(result.listed.map((entry) => text(entry.payload))).toEqual([
      'create res-1',
      'update res-1',
      'delete res-7'
    ])
    expect(result.listed[0]).toMatchObject({
      level: 'critical',
      attempts: 1,
      meta: { did: 'did:oc:res-1', user: 'admin', dataType: 2 }
    })
    expect(result.received).toEqual(['create res-1', 'update res-1'])
    expect(result.moderateStatus).toBe('queued')
    expect(result.searchError).toMatch(/PeerUnreachableError/)

    const [kept, created] = result.goReadBack
    expect(result.goReadBack).toHaveLength(2)
    expect(kept).toMatchObject({ did: 'did:oc:res-7', user: 'admin', proto: DELETE, retries: 0 })
    expect(kept!.dt).toBeUndefined()
    expect(text(kept!.payload)).toBe('delete res-7')
    expect(created).toMatchObject({
      did: 'did:oc:res-9',
      user: 'admin',
      dt: 5,
      proto: CREATE,
      retries: 0
    })
    expect(created!.addr).toEqual({ ID: kept!.addr.ID, Addrs: ['/ip4/127.0.0.1/tcp/1'] })
    expect(text(created!.payload)).toBe('create res-9')
    expect(created!.added_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/)

    expect(result.migrated.map((entry) => text(entry.payload))).toEqual([
      'delete res-7',
      'create res-9'
    ])
    expect(result.goAfterMigration).toEqual([])
  })

  it('runs as `pnpm start` does, narrates the story and exits 0', async () => {
    const { stdout } = await run(join(root, 'node_modules/.bin/tsx'), ['src/main.ts'], {
      cwd: root,
      timeout: 60_000
    })
    expect(stdout).toMatch(/delivered "create res-1"/)
    expect(stdout).toMatch(/new critical message -> queued/)
    expect(stdout).toMatch(/Done: read the Go file, delivered 2, wrote back 2 that Go reads/)
  })
})

import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { StoreLockedError } from '@dntkit/core'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { fileStore, ocDiscoveryFileStore, type StoreWarning } from '../src/index.js'
import { assertDistIsFresh, fixturePath } from './dist.js'
import { type TemporaryDirectory, temporaryDirectory, testPrivateKey } from './fixtures.js'

let directory: TemporaryDirectory
const children: ChildProcess[] = []

beforeAll(assertDistIsFresh)

beforeEach(async () => {
  directory = await temporaryDirectory()
})

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await once(child, 'close')
    }
  }
  await directory.remove()
})

/** Starts a child process holding the store at `path`; resolves once it has it open. */
async function holder(kind: 'file' | 'oc-discovery', path: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [fixturePath('hold-lock.mjs'), kind, path], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  children.push(child)
  let errors = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    errors += chunk
  })
  await new Promise<void>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('ready')) resolve()
    })
    child.once('close', (code) => reject(new Error(`holder exited with ${code}: ${errors}`)))
  })
  return child
}

async function kill(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL')
  await once(child, 'close')
}

const stores = {
  file: (path: string, onWarning?: (warning: StoreWarning) => void) =>
    fileStore({
      directory: path,
      privateKey: testPrivateKey(),
      ...(onWarning ? { onWarning } : {})
    }),
  'oc-discovery': (path: string, onWarning?: (warning: StoreWarning) => void) =>
    ocDiscoveryFileStore({
      file: path,
      privateKey: testPrivateKey(),
      ...(onWarning ? { onWarning } : {})
    })
}

for (const kind of ['file', 'oc-discovery'] as const) {
  describe(`lock (${kind})`, () => {
    const target = (): string => join(directory.path, kind === 'file' ? 'store' : 'dnt_cache.bin')
    const lockFile = (): string => (kind === 'file' ? join(target(), 'lock') : `${target()}.lock`)

    it('a second store in the same process is locked out until the first closes', async () => {
      const first = stores[kind](target())
      await first.open()
      const second = stores[kind](target())
      await expect(second.open()).rejects.toSatisfy(
        (error: unknown) =>
          StoreLockedError.isInstance(error) &&
          (error as Error).message.includes(`pid ${process.pid}`) &&
          (error as Error).message.includes(target())
      )
      // the failed attempt did not disturb the holder's lock
      expect((await readFile(lockFile(), 'utf8')).trim()).toBe(String(process.pid))
      await first.close()
      await second.open()
      await second.close()
    })

    it('another process holding it gives StoreLockedError naming its pid', async () => {
      const child = await holder(kind, target())
      const store = stores[kind](target())
      await expect(store.open()).rejects.toSatisfy(
        (error: unknown) =>
          StoreLockedError.isInstance(error) &&
          (error as Error).message.includes(`process ${child.pid}`)
      )
      await kill(child)
      // once it is dead, its lock is stale and taken over
      const warnings: StoreWarning[] = []
      const after = stores[kind](target(), (warning) => warnings.push(warning))
      await after.open()
      expect(warnings.map((warning) => [warning.code, warning.file])).toEqual([
        ['stale-lock', lockFile()]
      ])
      expect(warnings[0]?.message).toContain(String(child.pid))
      expect((await readFile(lockFile(), 'utf8')).trim()).toBe(String(process.pid))
      await after.close()
    })

    it('a lock file naming a dead pid or holding garbage is taken over', async () => {
      const exited = spawn(process.execPath, ['-e', ''])
      await once(exited, 'close')
      for (const content of [`${exited.pid}\n`, 'not a pid']) {
        if (kind === 'file') await mkdir(target(), { recursive: true, mode: 0o700 })
        await writeFile(lockFile(), content)
        const warnings: StoreWarning[] = []
        const store = stores[kind](target(), (warning) => warnings.push(warning))
        await store.open()
        expect(warnings.map((warning) => warning.code)).toEqual(['stale-lock'])
        await store.close()
        const left = await readdir(directory.path, { recursive: true })
        expect(left.filter((name) => name.includes('lock'))).toEqual([])
      }
    })
  })
}

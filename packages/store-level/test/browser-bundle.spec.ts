import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { bundleForBrowser } from '../scripts/bundle-size.mjs'
import { assertDistIsFresh } from './dist.js'

const root = join(import.meta.dirname, '..')

describe('as published, for a browser bundler', () => {
  it('bundles with esbuild for the browser without polyfills, classic-level or node: modules', async () => {
    await assertDistIsFresh()
    const figures = await bundleForBrowser(
      `import { levelStore } from '@dntkit/store-level'
       globalThis.store = levelStore({ location: 'outbox', encryption: false })`
    )
    expect(figures.warnings).toEqual([])
    expect(Object.keys(figures.packages)).toEqual(
      expect.arrayContaining(['abstract-level', 'browser-level', 'events', 'store-level'])
    )
    expect(Object.keys(figures.packages)).not.toContain('classic-level')
    expect(figures.gzip).toBeGreaterThan(0)
  })

  it('lists classic-level as an optional peer only, browser-level and events as dependencies', async () => {
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
    expect(Object.keys(manifest.dependencies)).toEqual(
      expect.arrayContaining(['browser-level', 'events'])
    )
    expect(manifest.dependencies['classic-level']).toBeUndefined()
    expect(manifest.dependencies.level).toBeUndefined()
    expect(manifest.peerDependenciesMeta['classic-level']).toEqual({ optional: true })
    expect(manifest.exports['.'].browser).toBe('./dist/browser.js')
  })
})

import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { levelStore } from '../src/index.js'
import { assertDistIsFresh, fixturePath } from './dist.js'
import { privateKey, temporaryDirectory } from './fixtures.js'

const run = promisify(execFile)

describe('in Node', () => {
  it('accepts only lock: "fail", naming the option otherwise', () => {
    expect(() => levelStore({ location: 'x', privateKey, lock: 'fail' })).not.toThrow()
    expect(() => levelStore({ location: 'x', privateKey, lock: 'wait' })).toThrow(TypeError)
    expect(() => levelStore({ location: 'x', privateKey, lock: 'wait' })).toThrow(
      /option `lock` is "wait", which is for browsers/
    )
    expect(() => levelStore({ location: 'x', privateKey, lock: 'none' })).toThrow(/`lock`/)
    expect(() => levelStore({ location: 'x', privateKey, lock: 'always' as never })).toThrow(
      /`lock` must be "fail", "wait" or "none"/
    )
  })

  it('never loads classic-level for a store in an application database, and names it for a location', async () => {
    await assertDistIsFresh()
    const directory = await temporaryDirectory()
    try {
      const { stdout } = await run(
        process.execPath,
        [
          '--import',
          fixturePath('hide-classic-level.mjs'),
          fixturePath('without-classic-level.mjs'),
          directory.path
        ],
        { timeout: 30_000 }
      )
      const result = JSON.parse(stdout)
      expect(result.reopened).toEqual(['e1'])
      expect(result.locationError.name).toBe('Error')
      expect(result.locationError.message).toMatch(
        /optional peer dependency that is not installed: run `npm install classic-level`, or pass your own database as `db`/
      )
      expect(result.locationError.cause).toBe('ERR_MODULE_NOT_FOUND')
    } finally {
      await directory.remove()
    }
  })
})

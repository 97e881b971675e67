import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { olderNodeNotice } from '../src/polyfill.js'
import { dnt, temporaryDirectory } from './helpers.js'

describe('Node.js version notice', () => {
  it('names the running version and the supported one, below 22 only', () => {
    expect(olderNodeNotice('20.20.2')).toMatch(
      /^dnt: Node\.js 20\.20\.2 is older than 22, the oldest version dntkit supports; going on with a Promise\.withResolvers polyfill/
    )
    expect(olderNodeNotice('21.7.3')).toMatch(/Node\.js 21\.7\.3 is older than 22/)
    expect(olderNodeNotice('22.0.0')).toBeUndefined()
    expect(olderNodeNotice('24.22.3')).toBeUndefined()
    expect(olderNodeNotice('26.10.0')).toBeUndefined()
  })

  it('the binary prints it as its one stderr line on an older Node, nothing on a supported one', async () => {
    const directory = temporaryDirectory()
    try {
      const result = await dnt(['keygen', '--out', join(directory.path, 'node.key')], {
        env: { NODE_NO_WARNINGS: '' }
      })
      expect(result.code, result.stderr).toBe(0)
      expect(result.stdout).toMatch(/^12D3KooW\w+\n$/)
      const lines = result.stderr.split('\n').filter((line) => line !== '')
      const expected = olderNodeNotice(process.versions.node)
      expect(lines).toEqual(expected === undefined ? [] : [expected])
    } finally {
      directory.remove()
    }
  })

  it('NODE_NO_WARNINGS=1 hides it', async () => {
    const directory = temporaryDirectory()
    try {
      const result = await dnt(['keygen', '--out', join(directory.path, 'node.key')], {
        env: { NODE_NO_WARNINGS: '1' }
      })
      expect(result).toMatchObject({ code: 0, stderr: '' })
    } finally {
      directory.remove()
    }
  })
})

import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { olderNodeNotice } from '../src/node-version.js'
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

  it('the binary brings its own polyfill: without the repository NODE_OPTIONS a send dials (libp2p calls Promise.withResolvers)', async () => {
    const directory = temporaryDirectory()
    try {
      const key = join(directory.path, 'node.key')
      const peer = join(directory.path, 'peer.key')
      for (const file of [key, peer]) {
        expect((await dnt(['keygen', '--out', file], { env: { NODE_OPTIONS: '' } })).code).toBe(0)
      }
      const peerId = (await dnt(['id', '--key', peer], { env: { NODE_OPTIONS: '' } })).stdout.trim()
      // nothing listens on port 1: the dial fails, the message is queued in memory (exit 3)
      const result = await dnt(
        [
          'send',
          '--key',
          key,
          '--store',
          'memory:',
          '--to',
          `/ip4/127.0.0.1/tcp/1/p2p/${peerId}`,
          '--protocol',
          '/dntkit-test/1.0.0',
          '--data',
          'x'
        ],
        { env: { NODE_OPTIONS: '' } }
      )
      expect(result.code, result.stderr).toBe(3)
      expect(result.stderr).not.toMatch(/withResolvers is not a function|TypeError/)
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

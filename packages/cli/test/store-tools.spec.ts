import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deadAddress, dnt, keygen, listen, readJsonl, temporaryDirectory } from './helpers.js'

const PROTOCOL = '/dntkit-test/tools/1.0.0'

interface JsonEntry {
  id: string
  peer: string
  protocol: string
  level: string
  attempts: number
  createdAt: number
  base64: string
  deadLetter?: { reason: string }
}

describe('migrate, purge and dead', () => {
  const directory = temporaryDirectory()
  const path = (name: string): string => join(directory.path, name)
  const key = path('sender.key')
  const policy = path('policy.json')
  const source = `file:${path('source')}`
  let to: string
  let otherTo: string
  let receiverKey: string

  const inspect = async (store: string): Promise<JsonEntry[]> => {
    const result = await dnt(['inspect', '--key', key, '--store', store, '--json'])
    expect(result.code, result.stderr).toBe(0)
    return (JSON.parse(result.stdout) as JsonEntry[]).sort((left, right) =>
      left.id.localeCompare(right.id)
    )
  }

  beforeAll(async () => {
    receiverKey = path('receiver.key')
    const receiver = await keygen(receiverKey)
    await keygen(key)
    to = await deadAddress(receiver)
    otherTo = await deadAddress(await keygen(path('other.key')))
    // "fragile": persisted, no retry, dead-lettered, so a failed send leaves a dead letter
    writeFileSync(
      policy,
      JSON.stringify({
        levels: { fragile: { persist: true, maxRetries: 0, onExhausted: 'dead-letter' } }
      })
    )
    const lines = [
      { id: 'text-1', data: 'hello' },
      { id: 'binary-2', base64: Buffer.from([0, 255, 1, 254]).toString('base64') },
      { id: 'fragile-3', data: 'gives up at once', level: 'fragile' },
      { id: 'other-protocol-4', data: 'elsewhere', protocol: '/dntkit-test/other/1.0.0' }
    ]
    writeFileSync(path('input.jsonl'), lines.map((line) => JSON.stringify(line)).join('\n'))
    const sent = await dnt([
      'send',
      '--key',
      key,
      '--store',
      source,
      '--to',
      to,
      '--protocol',
      PROTOCOL,
      '--jsonl',
      path('input.jsonl'),
      '--policy',
      policy,
      '--json'
    ])
    expect(sent.code, sent.stderr).toBe(3)
    const statuses = Object.fromEntries(
      (JSON.parse(sent.stdout) as { messages: Array<{ id: string; status: string }> }).messages.map(
        (message) => [message.id, message.status]
      )
    )
    expect(statuses).toEqual({
      'text-1': 'queued',
      'binary-2': 'queued',
      'fragile-3': 'abandoned',
      'other-protocol-4': 'queued'
    })
    const other = await dnt([
      'send',
      '--key',
      key,
      '--store',
      source,
      '--to',
      otherTo,
      '--protocol',
      PROTOCOL,
      '--data',
      'to another peer'
    ])
    expect(other.code).toBe(3)
  })

  afterAll(() => directory.remove())

  it('migrate between every pair of stores keeps every entry, dead letters included', async () => {
    const original = await inspect(source)
    expect(original).toHaveLength(5)
    expect(original.find((entry) => entry.id === 'fragile-3')?.deadLetter?.reason).toBe('exhausted')
    const chain = [
      source,
      `level:${path('level-1')}`,
      `oc-discovery:${path('go-1/dnt_cache.bin')}`,
      `file:${path('file-2')}`,
      `oc-discovery:${path('go-2/dnt_cache.bin')}`,
      `level:${path('level-2')}`,
      `file:${path('file-3')}`
    ]
    for (let index = 1; index < chain.length; index++) {
      const from = chain[index - 1] as string
      const into = chain[index] as string
      const migrated = await dnt(['migrate', '--key', key, '--from', from, '--to', into, '--json'])
      expect(migrated.code, `${from} -> ${into}: ${migrated.stderr}`).toBe(0)
      expect(JSON.parse(migrated.stdout)).toMatchObject({ copied: 5, deadLetters: 1 })
      const copied = await inspect(into)
      expect(copied, `${from} -> ${into}`).toEqual(original)
      expect(await inspect(from), `${from} is left unchanged`).toEqual(original)
    }
  })

  it('dead lists the dead letter; --requeue puts it back and flush delivers it', async () => {
    const store = `file:${path('file-3')}`
    const dead = await dnt(['dead', '--key', key, '--store', store, '--json'])
    expect((JSON.parse(dead.stdout) as JsonEntry[]).map((entry) => entry.id)).toEqual(['fragile-3'])
    const table = await dnt(['dead', '--key', key, '--store', store])
    expect(table.stdout).toMatch(/fragile-3 .* fragile .* exhausted/)
    const requeued = await dnt(['dead', '--key', key, '--store', store, '--requeue', 'fragile-3'])
    expect(requeued.code, requeued.stderr).toBe(0)
    const entry = (await inspect(store)).find((candidate) => candidate.id === 'fragile-3')
    expect(entry).toMatchObject({ level: 'fragile', attempts: 0 })
    expect(entry?.deadLetter).toBeUndefined()
    expect(
      JSON.parse((await dnt(['dead', '--key', key, '--store', store, '--json'])).stdout)
    ).toEqual([])

    const received = path('received.jsonl')
    const listener = await listen([
      '--key',
      receiverKey,
      '--listen',
      to.replace(/\/p2p\/.*$/, ''),
      '--protocol',
      PROTOCOL,
      '--protocol',
      '/dntkit-test/other/1.0.0',
      '--jsonl',
      received
    ])
    try {
      await dnt([
        'purge',
        '--key',
        key,
        '--store',
        store,
        '--peer',
        otherTo.split('/p2p/')[1] as string
      ])
      const flushed = await dnt([
        'flush',
        '--key',
        key,
        '--store',
        store,
        '--wait',
        '10',
        '--policy',
        policy,
        '--json'
      ])
      expect(flushed.code, flushed.stderr).toBe(0)
      expect(JSON.parse(flushed.stdout)).toMatchObject({ delivered: 4, remaining: 0 })
    } finally {
      await listener.stop()
    }
    const lines = readJsonl(received)
    expect(
      lines
        .map((line) => line.data)
        .filter((data) => data !== undefined)
        .sort()
    ).toEqual(['elsewhere', 'gives up at once', 'hello'])
    // not UTF-8: base64 only
    expect(lines.filter((line) => line.data === undefined).map((line) => line.base64)).toEqual([
      Buffer.from([0, 255, 1, 254]).toString('base64')
    ])
  })

  it('purge removes by id, by peer and all', async () => {
    const store = `level:${path('level-2')}`
    expect(await inspect(store)).toHaveLength(5)
    const byId = await dnt([
      'purge',
      '--key',
      key,
      '--store',
      store,
      '--id',
      'text-1',
      'binary-2',
      '--json'
    ])
    expect(byId.code, byId.stderr).toBe(0)
    expect(JSON.parse(byId.stdout)).toEqual({ removed: 2, ids: ['text-1', 'binary-2'] })
    expect((await inspect(store)).map((entry) => entry.id)).not.toContain('text-1')
    const otherPeer = otherTo.split('/p2p/')[1] as string
    const byPeer = await dnt(['purge', '--key', key, '--store', store, '--peer', otherPeer])
    expect(byPeer.stdout).toContain('removed 1 entry')
    expect((await inspect(store)).some((entry) => entry.peer === otherPeer)).toBe(false)
    const all = await dnt(['purge', '--key', key, '--store', store, '--all'])
    expect(all.stdout).toContain('removed 2 entries')
    expect(await inspect(store)).toEqual([])
    const stats = await dnt(['stats', '--key', key, '--store', store, '--json'])
    expect(JSON.parse(stats.stdout)).toMatchObject({ queued: 0, deadLetters: 0, oldestAge: null })
  })
})

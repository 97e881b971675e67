import { defaultPreset, definePolicy } from '@dntkit/core'
import { describe, expect, it } from 'vitest'
import { type CommandSpec, parseFlags, secondsFlag } from '../src/arguments.js'
import { errorLine, exitCodeOf, UsageError } from '../src/errors.js'
import { entryToJson, formatAge, formatBytes, table } from '../src/format.js'
import { parseJsonl } from '../src/message-input.js'
import { receivedRecord } from '../src/received-output.js'
import { parseStoreUri } from '../src/store-uri.js'
import { parseTarget } from '../src/target.js'

const PEER = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

const spec: CommandSpec = {
  name: 'test',
  summary: 'a test command',
  usage: '',
  flags: {
    key: { type: 'string', value: 'FILE', required: true, description: 'key' },
    id: { type: 'string', value: 'ID', multiple: true, description: 'ids' },
    all: { type: 'boolean', description: 'all' }
  }
}

function usageMessage(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    expect(UsageError.isInstance(error)).toBe(true)
    expect(exitCodeOf(error)).toBe(2)
    return errorLine(error)
  }
  throw new Error('expected a UsageError')
}

describe('flags', () => {
  it('reads values, repeated flags and values following a repeatable flag', () => {
    const flags = parseFlags(spec, ['--key', 'k', '--id', 'a', 'b', '--id=c', '--all'])
    expect(flags).toMatchObject({ key: 'k', id: ['a', 'b', 'c'], all: true })
  })

  it('names the flag at fault', () => {
    expect(usageMessage(() => parseFlags(spec, ['--key', 'k', '--nope']))).toBe(
      'unknown flag --nope (run "dnt test --help")'
    )
    expect(usageMessage(() => parseFlags(spec, ['--key']))).toBe('flag --key needs a value (FILE)')
    expect(usageMessage(() => parseFlags(spec, ['--key', '--all']))).toBe(
      'flag --key needs a value (FILE)'
    )
    expect(usageMessage(() => parseFlags(spec, ['--all']))).toBe('missing required flag --key FILE')
    expect(usageMessage(() => parseFlags(spec, ['--key', 'a', '--key', 'b']))).toBe(
      'flag --key is given more than once'
    )
    expect(usageMessage(() => parseFlags(spec, ['--key', 'a', 'stray']))).toContain(
      'unexpected argument "stray"'
    )
    expect(usageMessage(() => parseFlags(spec, ['--key', 'a', '--all=yes']))).toBe(
      'flag --all takes no value'
    )
  })

  it('accepts --help without the required flags', () => {
    expect(parseFlags(spec, ['--help']).help).toBe(true)
    expect(parseFlags(spec, ['-h']).help).toBe(true)
  })

  it('reads --wait as seconds', () => {
    expect(secondsFlag({ wait: '1.5' }, 'wait', 60)).toBe(1500)
    expect(secondsFlag({}, 'wait', 60)).toBeUndefined()
    for (const bad of ['', 'soon', '-1', '61', 'Infinity']) {
      expect(usageMessage(() => secondsFlag({ wait: bad }, 'wait', 60))).toContain('--wait')
    }
  })
})

describe('addresses and store URIs', () => {
  it('splits --to into the peer id and the address to dial', () => {
    expect(parseTarget(`/ip4/127.0.0.1/tcp/4001/p2p/${PEER}`)).toEqual({
      peer: PEER,
      addrs: [`/ip4/127.0.0.1/tcp/4001/p2p/${PEER}`]
    })
  })

  it('rejects what is not a multiaddr to a peer', () => {
    expect(usageMessage(() => parseTarget('127.0.0.1:4001'))).toContain(
      '--to "127.0.0.1:4001" is not a valid multiaddr'
    )
    expect(usageMessage(() => parseTarget('/ip4/127.0.0.1/tcp/4001'))).toContain(
      'must end with /p2p/PEER_ID'
    )
    expect(usageMessage(() => parseTarget(`/p2p/${PEER}`))).toContain('has no address to dial')
    expect(usageMessage(() => parseTarget('/ip4/127.0.0.1/tcp/4001/p2p/QmNotAPeer'))).toMatch(
      /--to/
    )
  })

  it('parses the four store URIs', () => {
    expect(parseStoreUri('memory:')).toEqual({ kind: 'memory', uri: 'memory:' })
    expect(parseStoreUri('file:/tmp/x')).toMatchObject({ kind: 'file', path: '/tmp/x' })
    expect(parseStoreUri('file:///tmp/y')).toMatchObject({ kind: 'file', path: '/tmp/y' })
    expect(parseStoreUri('level:/tmp/z')).toMatchObject({ kind: 'level', path: '/tmp/z' })
    expect(parseStoreUri('oc-discovery:/tmp/dnt_cache.bin')).toMatchObject({
      kind: 'oc-discovery',
      path: '/tmp/dnt_cache.bin'
    })
    expect(usageMessage(() => parseStoreUri('sqlite:/tmp/x'))).toContain('unknown store URI')
    expect(usageMessage(() => parseStoreUri('file:'))).toContain('path after the scheme is missing')
  })
})

describe('JSONL input', () => {
  const defaults = { protocol: '/p/1', policy: defaultPreset() }

  it('reads data, base64, id, protocol and level; skips blank lines', () => {
    const messages = parseJsonl(
      '{"data":"hi"}\n\n{"base64":"AAEC","id":"x","protocol":"/q/1","level":"moderate"}\r\n',
      'in.jsonl',
      defaults
    )
    expect(messages).toHaveLength(2)
    expect(new TextDecoder().decode(messages[0]?.payload)).toBe('hi')
    expect(messages[0]).toMatchObject({ protocol: '/p/1', source: '--jsonl in.jsonl line 1' })
    expect(Array.from(messages[1]?.payload ?? [])).toEqual([0, 1, 2])
    expect(messages[1]).toMatchObject({ id: 'x', protocol: '/q/1', level: 'moderate' })
  })

  it('names the line at fault', () => {
    const bad = (text: string): string => usageMessage(() => parseJsonl(text, 'in.jsonl', defaults))
    expect(bad('{"data":"a"}\n{"data":')).toMatch(/^--jsonl in.jsonl line 2: not valid JSON/)
    expect(bad('{"data":"a"}\n{"data":"b","base64":"AA=="}')).toContain(
      'line 2: give exactly one of'
    )
    expect(bad('{"base64":"!!"}')).toContain('line 1: "base64" must be')
    expect(bad('{"data":"a","colour":"red"}')).toContain('line 1: unknown field "colour"')
    expect(bad('{"data":"a","level":"urgent"}')).toContain('line 1: unknown level "urgent"')
    expect(bad('["data"]')).toContain('line 1: expected a JSON object')
    expect(bad('{"data":"a","id":"x"}\n{"data":"b","id":"x"}')).toContain(
      'line 2: id "x" repeats line 1'
    )
    expect(bad('\n\n')).toContain('no messages')
    expect(
      usageMessage(() => parseJsonl('{"data":"a"}', 'in.jsonl', { policy: definePolicy() }))
    ).toContain('line 1: no "protocol", and no --protocol given')
  })
})

describe('output', () => {
  it('formats sizes, ages and tables', () => {
    expect(formatBytes(999)).toBe('999 B')
    expect(formatBytes(1500)).toBe('1.5 kB')
    expect(formatBytes(2_500_000)).toBe('2.5 MB')
    expect(formatAge(850)).toBe('850ms')
    expect(formatAge(65_000)).toBe('1m05s')
    expect(formatAge(3 * 3_600_000 + 60_000)).toBe('3h01m')
    expect(
      table(
        ['A', 'NUMBER'],
        [
          ['x', '1'],
          ['long', '22']
        ],
        [1]
      )
    ).toBe('A     NUMBER\nx          1\nlong      22')
  })

  it('writes the listen JSONL record with data only for UTF-8 payloads', () => {
    const receivedAt = new Date('2025-01-02T03:04:05.678Z')
    expect(
      receivedRecord({
        id: 'i',
        from: PEER,
        protocol: '/p/1',
        payload: new TextEncoder().encode('hé'),
        receivedAt
      })
    ).toEqual({
      id: 'i',
      from: PEER,
      protocol: '/p/1',
      data: 'hé',
      base64: 'aMOp',
      receivedAt: '2025-01-02T03:04:05.678Z'
    })
    const binary = receivedRecord({
      from: PEER,
      protocol: '/p/1',
      payload: Uint8Array.from([0xff, 0xfe]),
      receivedAt
    })
    expect(binary).toEqual({
      from: PEER,
      protocol: '/p/1',
      base64: '//4=',
      receivedAt: '2025-01-02T03:04:05.678Z'
    })
  })

  it('prints entries for --json with every field', () => {
    const json = entryToJson({
      id: 'e',
      peer: PEER,
      protocol: '/p/1',
      payload: new TextEncoder().encode('x'),
      level: 'critical',
      attempts: 2,
      createdAt: 1,
      // the outbox's times are fractional (monotonic clock): printed as whole milliseconds
      nextAttemptAt: 2.6,
      lastError: 'PeerUnreachableError: refused',
      deadLetter: { reason: 'expired', at: 1_700_000_000_000.4 }
    })
    expect(json).toEqual({
      id: 'e',
      peer: PEER,
      addrs: [],
      protocol: '/p/1',
      level: 'critical',
      attempts: 2,
      createdAt: 1,
      createdAtIso: '1970-01-01T00:00:00.001Z',
      nextAttemptAt: 3,
      nextAttemptAtIso: '1970-01-01T00:00:00.003Z',
      size: 1,
      lastError: 'PeerUnreachableError: refused',
      deadLetter: {
        reason: 'expired',
        at: 1_700_000_000_000,
        atIso: '2023-11-14T22:13:20.000Z',
        advice:
          'its time to live passed: `dnt dead --requeue ID` sends it again if it still matters'
      },
      data: 'x',
      base64: 'eA=='
    })
  })
})

/**
 * Fuzzing the `--jsonl` input of `dnt send`: arbitrary files, made of lines
 * that are valid, nearly valid or garbage. The parser (called directly, many
 * runs) either accepts every non-blank line, each message exactly as its
 * line says, or throws a `UsageError` naming the first bad line (every line
 * before it parses); nothing else is ever thrown. Arbitrary bytes (not UTF-8
 * either) go through `readMessages` the same way. A few runs go through the
 * built binary: exit 2 with one stderr line naming the same line, or the
 * messages are taken (exit 3: queued, the peer being down). `FUZZ_RUNS` sets
 * the number of parser runs (default 2,000; the binary gets 1/160 of them,
 * at least 12, at most 300).
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { defaultPreset, definePolicy } from '@dntkit/core'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_PAYLOAD_BYTES } from '../src/constants.js'
import { UsageError } from '../src/errors.js'
import { type OutgoingMessage, parseJsonl, readMessages } from '../src/message-input.js'
import { deadAddress, dnt, keygen, temporaryDirectory } from './helpers.js'

const RUNS = Number(process.env.FUZZ_RUNS ?? 2_000)
const BINARY_RUNS = Math.min(300, Math.max(12, Math.floor(RUNS / 160)))
const NAME = 'in.jsonl'
const PROTOCOL = '/dntkit-test/fuzz/1.0.0'
const policy = definePolicy({ levels: { fragile: { persist: false, maxRetries: 0 } } })
const defaults = { protocol: PROTOCOL, policy }

/** Lines near the format: valid objects, and every way of getting one field wrong. */
const text = fc.string({ unit: 'grapheme', maxLength: 30 })
const base64 = fc
  .uint8Array({ maxLength: 30 })
  .map((bytes) => Buffer.from(bytes).toString('base64'))
const anything = fc.jsonValue({ maxDepth: 2 })
const objectLine = fc
  .record(
    {
      data: fc.oneof({ weight: 5, arbitrary: text }, anything),
      base64: fc.oneof(
        { weight: 4, arbitrary: base64 },
        fc.constantFrom('', 'YQ', 'YQ=', 'Y===', 'not base64!', 'YWJj\n'),
        anything
      ),
      id: fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^[a-z0-9-]{1,6}$/) }, anything),
      protocol: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('/a/1', '/b/2') }, anything),
      level: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom('critical', 'moderate', 'fragile', 'none') },
        fc.constantFrom('urgent', ''),
        anything
      ),
      extra: anything
    },
    { requiredKeys: [] }
  )
  .map((line) => {
    // most lines have exactly one payload field and no unknown one, as they should
    const copy: Record<string, unknown> = { ...line }
    if (copy.extra !== undefined && JSON.stringify(copy).length % 4 !== 0) delete copy.extra
    if (copy.data !== undefined && copy.base64 !== undefined && JSON.stringify(copy).length % 3)
      delete copy.base64
    return JSON.stringify(copy)
  })
/** Lines that are right: a payload, and maybe an id, a protocol, a level. */
const goodLine = fc
  .record(
    {
      payload: fc.oneof(
        text.map((data) => ({ data })),
        base64.map((value) => ({ base64: value }))
      ),
      id: fc.stringMatching(/^[a-z0-9]{8}$/),
      protocol: fc.constantFrom('/a/1', '/b/2'),
      level: fc.constantFrom('critical', 'moderate', 'fragile')
    },
    { requiredKeys: ['payload'] }
  )
  .map(({ payload, ...rest }) => JSON.stringify({ ...payload, ...rest }))
const line = fc.oneof(
  { weight: 8, arbitrary: objectLine },
  { weight: 2, arbitrary: fc.constantFrom('', '   ', '\t') },
  { weight: 1, arbitrary: anything.map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: objectLine.map((json) => json.slice(0, Math.floor(json.length / 2))) }
)
/** Right lines only (some blank), or right lines with a few others among them. */
const lines = fc.oneof(
  fc.array(fc.oneof({ weight: 6, arbitrary: goodLine }, fc.constant('')), { maxLength: 8 }),
  fc
    .tuple(
      fc.array(goodLine, { maxLength: 8 }),
      fc.array(fc.tuple(fc.nat(), line), { maxLength: 2 })
    )
    .map(([good, others]) => {
      const mixed = [...good]
      for (const [at, other] of others) mixed.splice(at % (mixed.length + 1), 0, other)
      return mixed
    })
)
const file = fc
  .tuple(lines, fc.constantFrom('\n', '\r\n'), fc.boolean())
  .map(([items, separator, finalNewline]) => items.join(separator) + (finalNewline ? '\n' : ''))

type Outcome = { messages: OutgoingMessage[] } | { error: UsageError }

function parse(input: string): Outcome {
  try {
    return { messages: parseJsonl(input, NAME, defaults) }
  } catch (error) {
    // anything but a UsageError fails the property
    if (!UsageError.isInstance(error)) throw error
    return { error: error as UsageError }
  }
}

/** The line number an error names, or 0 for "no messages in it". */
function lineOf(error: Error): number {
  const match = /^--jsonl in\.jsonl line (\d+): \S/.exec(error.message)
  if (match !== null) return Number(match[1])
  expect(error.message).toBe(`--jsonl ${NAME}: no messages in it`)
  return 0
}

function checkAccepted(input: string, messages: OutgoingMessage[]): void {
  const given = input
    .split('\n')
    .map((raw, index) => ({ raw: raw.replace(/\r$/, ''), number: index + 1 }))
    .filter(({ raw }) => raw.trim() !== '')
  expect(messages).toHaveLength(given.length)
  const ids = new Set<string>()
  given.forEach(({ raw, number }, index) => {
    const object = JSON.parse(raw) as Record<string, unknown>
    const message = messages[index] as OutgoingMessage
    const payload =
      typeof object.data === 'string'
        ? new TextEncoder().encode(object.data)
        : Buffer.from(object.base64 as string, 'base64')
    expect(Buffer.from(message.payload).equals(Buffer.from(payload))).toBe(true)
    expect(message.payload.byteLength).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES)
    expect(message.protocol).toBe(object.protocol ?? PROTOCOL)
    expect(message.level).toBe(object.level)
    expect(message.id).toBe(object.id)
    if (message.id !== undefined) {
      expect(ids.has(message.id)).toBe(false)
      ids.add(message.id)
    }
    expect(message.source).toBe(`--jsonl ${NAME} line ${number}`)
  })
}

function checkRefused(input: string, error: UsageError): number {
  const number = lineOf(error)
  const lines = input.split('\n')
  if (number === 0) {
    expect(lines.every((raw) => raw.trim() === '' || raw.trim() === '\r')).toBe(true)
    return 0
  }
  // the line named is a real, non-blank line, and every line before it parses
  expect(number).toBeLessThanOrEqual(lines.length)
  expect((lines[number - 1] as string).replace(/\r$/, '').trim()).not.toBe('')
  const before = lines.slice(0, number - 1).join('\n')
  if (before.trim() !== '') expect(() => parseJsonl(before, NAME, defaults)).not.toThrow()
  return number
}

describe('fuzz: dnt send --jsonl input', () => {
  it(`the parser accepts every line or names the first bad one (${RUNS} runs)`, () => {
    const outcomes = { accepted: 0, refused: 0 }
    fc.assert(
      fc.property(file, (input) => {
        const outcome = parse(input)
        if ('messages' in outcome) {
          outcomes.accepted++
          checkAccepted(input, outcome.messages)
        } else {
          outcomes.refused++
          checkRefused(input, outcome.error)
        }
      }),
      { numRuns: RUNS }
    )
    if (process.env.FUZZ_VERBOSE) process.stderr.write(`[fuzz jsonl] ${JSON.stringify(outcomes)}\n`)
    expect(outcomes.accepted).toBeGreaterThan(RUNS / 20)
    expect(outcomes.refused).toBeGreaterThan(RUNS / 20)
  })

  it(`arbitrary bytes are read as UTF-8 JSONL or refused with a UsageError (${RUNS} runs)`, async () => {
    const directory = temporaryDirectory()
    try {
      const path = join(directory.path, NAME)
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        file.map((input) => new TextEncoder().encode(input)),
        // valid lines with a byte that breaks UTF-8 somewhere
        fc
          .tuple(file, fc.nat(), fc.constantFrom(0x80, 0xc3, 0xff, 0xed))
          .map(([input, at, byte]) => {
            const encoded = Buffer.from(input)
            const position = encoded.byteLength === 0 ? 0 : at % encoded.byteLength
            return Buffer.concat([
              encoded.subarray(0, position),
              Buffer.of(byte),
              encoded.subarray(position)
            ])
          })
      )
      await fc.assert(
        fc.asyncProperty(bytes, async (content) => {
          writeFileSync(path, content)
          try {
            const messages = await readMessages(
              { jsonl: path },
              { ...defaults, policy: defaultPreset() }
            )
            expect(messages.length).toBeGreaterThan(0)
          } catch (error) {
            if (!UsageError.isInstance(error)) throw error
            expect((error as Error).message).toMatch(/^--jsonl \S+/)
          }
        }),
        { numRuns: RUNS }
      )
    } finally {
      directory.remove()
    }
  })

  describe('through the built binary', () => {
    const directory = temporaryDirectory()
    let key: string
    let to: string
    beforeAll(async () => {
      key = join(directory.path, 'sender.key')
      await keygen(key)
      to = await deadAddress('12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA')
    })
    afterAll(() => directory.remove())

    it(
      `exits 2 naming the same line as the parser, or takes the messages (${BINARY_RUNS} runs)`,
      async () => {
        const policyFile = join(directory.path, 'policy.json')
        writeFileSync(
          policyFile,
          JSON.stringify({ levels: { fragile: { persist: false, maxRetries: 0 } } })
        )
        let run = 0
        await fc.assert(
          fc.asyncProperty(file, async (input) => {
            const path = join(directory.path, `input-${run++}.jsonl`)
            writeFileSync(path, input)
            const expected = parse(input)
            const result = await dnt(
              [
                'send',
                '--key',
                key,
                '--store',
                'memory:',
                '--to',
                to,
                '--protocol',
                PROTOCOL,
                '--policy',
                policyFile,
                '--jsonl',
                path
              ],
              { timeout: 20_000 }
            )
            if ('error' in expected) {
              expect(result.code, result.stderr).toBe(2)
              const lines = result.stderr.split('\n').filter((item) => item !== '')
              expect(lines).toHaveLength(1)
              expect(lines[0]).toBe(`dnt send: ${expected.error.message.replace(NAME, path)}`)
            } else {
              // the peer is down: the messages are taken and stay queued (in memory), or are
              // abandoned when their level allows no retry
              expect([1, 3], result.stderr).toContain(result.code)
            }
          }),
          { numRuns: BINARY_RUNS }
        )
      },
      60_000 + BINARY_RUNS * 2_000
    )
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeAck,
  decodeMessageFrame,
  encodeMessageFrame,
  FrameError,
  type MessageFrame,
  varintBytes
} from '../src/envelope-codec.js'
import { FrameDecoder } from '../src/frame-decoder.js'
import { MessageFrameReader, type ReaderEvent } from '../src/message-frame-reader.js'

/*
 * Fuzzing of the envelope frame decoders. FUZZ_RUNS sets the runs of the two
 * main properties (default 20,000 each; the others run a quarter of it):
 * FUZZ_RUNS=1000000 pnpm --filter @dntkit/transport-libp2p exec vitest run test/frame-fuzz.spec.ts
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 20_000)
const SMALLER = Math.max(1, Math.round(RUNS / 4))
const TIMEOUT = Math.max(30_000, RUNS * 10)

/** Small limits, so random bytes run into every one of them. */
const limits = { maxMessageBytes: 64, maxHeaderBytes: 48, maxIdBytes: 16 }
const MAX_FRAME = limits.maxMessageBytes + limits.maxHeaderBytes
const utf8 = (text: string) => new TextEncoder().encode(text).byteLength

/** What a run of the reader produced: its events, and the error that ended it, if any. */
interface Outcome {
  events: Array<ReaderEvent & { decision?: 'accept' | 'skip' }>
  error?: FrameError
}

/**
 * Feeds `chunks` to a reader as the receiver does, accepting or skipping
 * headers as `decide` says, and checks after every chunk that the reader
 * holds no more than one frame: it never buffers beyond the size limit.
 */
function drive(chunks: Uint8Array[], decide: (index: number) => boolean): Outcome {
  const reader = new MessageFrameReader(limits)
  const events: Outcome['events'] = []
  try {
    for (const chunk of chunks) {
      reader.push(chunk)
      for (let event = reader.next(); event !== undefined; event = reader.next()) {
        if (event.kind === 'header') {
          const accept = decide(events.length)
          if (accept) reader.accept()
          else reader.skip()
          events.push({ ...event, decision: accept ? 'accept' : 'skip' })
        } else {
          events.push(event)
        }
      }
      expect(reader.buffered).toBeLessThan(Math.max(MAX_FRAME, 8))
    }
  } catch (error) {
    // the only error the decoder may throw
    if (!(error instanceof FrameError)) throw error
    return { events, error }
  }
  return { events }
}

/** Every event keeps to the limits. */
function checkEvents(outcome: Outcome): void {
  for (const event of outcome.events) {
    if (event.kind === 'message') {
      expect(event.payload.byteLength).toBeLessThanOrEqual(limits.maxMessageBytes)
      expect(event.frameBytes).toBe(event.header.headerBytes + event.payload.byteLength)
    }
    if (event.kind === 'header' || event.kind === 'message') {
      expect(utf8(event.header.id)).toBeLessThanOrEqual(limits.maxIdBytes)
      expect(event.header.id.length).toBeGreaterThan(0)
      expect(event.header.protocol.length).toBeGreaterThan(0)
      expect(event.header.headerBytes).toBeLessThanOrEqual(limits.maxHeaderBytes)
    }
    if (event.kind === 'refused') expect(['too-large', 'id-too-long']).toContain(event.code)
  }
}

/** Splits `bytes` at the given points. */
function split(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const cuts = [...new Set(points.map((point) => point % (bytes.byteLength + 1)))].sort(
    (a, b) => a - b
  )
  const chunks: Uint8Array[] = []
  let start = 0
  for (const cut of [...cuts, bytes.byteLength]) {
    if (cut > start) chunks.push(bytes.subarray(start, cut))
    start = Math.max(start, cut)
  }
  return chunks
}

const metaValue = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null)
)
const frameArbitrary = fc.record(
  {
    id: fc.string({ minLength: 1, maxLength: 20 }),
    protocol: fc.string({ minLength: 1, maxLength: 24 }),
    meta: fc.dictionary(fc.string({ maxLength: 6 }), metaValue, { maxKeys: 3 }),
    payload: fc.uint8Array({ maxLength: 90 })
  },
  { requiredKeys: ['id', 'protocol', 'payload'] }
)

/** Body and header bytes of a frame as encoded. */
function sizes(frame: MessageFrame): { body: number; header: number } {
  const wire = encodeMessageFrame(frame).byteLength
  let prefix = 1
  while (varintBytes(wire - prefix).byteLength !== prefix) prefix++
  return { body: wire - prefix, header: wire - prefix - frame.payload.byteLength }
}

/** Frames encoded back to back, sequence 0, 1, 2, ... */
function encodeAll(frames: Array<Omit<MessageFrame, 'sequence'>>): Uint8Array {
  return Buffer.concat(
    frames.map((frame, sequence) => encodeMessageFrame({ ...frame, sequence }).slice())
  )
}

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 })
  }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 })
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 9 })
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 9 })
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('length' as const),
    at: fc.nat(),
    value: fc.oneof(fc.nat(), fc.maxSafeNat())
  })
)
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never

function mutate(input: Uint8Array, mutations: Mutation[]): Uint8Array {
  let bytes = Array.from(input)
  for (const change of mutations) {
    const at = bytes.length === 0 ? 0 : change.at % bytes.length
    switch (change.kind) {
      case 'flip':
        if (bytes.length > 0) bytes[at] = (bytes[at] as number) ^ (1 << change.bit)
        break
      case 'set':
        if (bytes.length > 0) bytes[at] = change.value
        break
      case 'insert':
        bytes.splice(at, 0, ...change.bytes)
        break
      case 'delete':
        bytes.splice(at, change.count)
        break
      case 'truncate':
        bytes = bytes.slice(0, at)
        break
      case 'length':
        // a varint written over whatever was there: lengths, sequence numbers, string lengths
        bytes.splice(at, 0, ...varintBytes(change.value))
        break
    }
  }
  return Uint8Array.from(bytes)
}

describe('envelope frame decoder fuzzing', () => {
  it(
    `arbitrary bytes, arbitrarily chunked: only FrameError, never more than one frame held (${RUNS} runs)`,
    () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 400 }),
          fc.array(fc.nat(), { maxLength: 8 }),
          fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
          (bytes, points, decisions) => {
            const outcome = drive(
              split(bytes, points),
              (index) => decisions[index % decisions.length] as boolean
            )
            checkEvents(outcome)
          }
        ),
        { numRuns: RUNS }
      )
    },
    TIMEOUT
  )

  it(
    `mutated valid frames: only FrameError, limits kept, chunking changes nothing (${RUNS} runs)`,
    () => {
      fc.assert(
        fc.property(
          fc.array(frameArbitrary, { minLength: 1, maxLength: 5 }),
          fc.array(mutation, { maxLength: 4 }),
          fc.array(fc.nat(), { maxLength: 6 }),
          (frames, mutations, points) => {
            const bytes = mutate(encodeAll(frames), mutations)
            const whole = drive([bytes], () => true)
            const chunked = drive(split(bytes, points), () => true)
            checkEvents(chunked)
            expect(chunked.events).toEqual(whole.events)
            expect(chunked.error?.kind).toBe(whole.error?.kind)
          }
        ),
        { numRuns: RUNS }
      )
    },
    TIMEOUT
  )

  it(
    `valid frames round-trip; those over a limit are refused with the right code (${SMALLER} runs)`,
    () => {
      fc.assert(
        fc.property(fc.array(frameArbitrary, { minLength: 1, maxLength: 5 }), (frames) => {
          const outcome = drive([encodeAll(frames)], () => true)
          const results = outcome.events.filter((event) => event.kind !== 'header')
          for (const [sequence, frame] of frames.entries()) {
            const { body, header } = sizes({ ...frame, sequence })
            if (body > MAX_FRAME) {
              // refused from its length prefix: the reader stops there
              expect(results).toEqual([])
              expect(outcome.error?.kind).toBe('too-large')
              return
            }
            const result = results.shift()
            const code =
              utf8(frame.id) > limits.maxIdBytes
                ? 'id-too-long'
                : header > limits.maxHeaderBytes ||
                    frame.payload.byteLength > limits.maxMessageBytes
                  ? 'too-large'
                  : undefined
            if (code !== undefined) {
              expect(result).toMatchObject({ kind: 'refused', sequence, code })
              expect(results.shift()?.kind).toBe('skipped')
              continue
            }
            expect(result?.kind).toBe('message')
            const message = result as Extract<ReaderEvent, { kind: 'message' }>
            expect(message.header).toMatchObject({
              sequence,
              id: frame.id,
              protocol: frame.protocol
            })
            expect(message.header.meta).toEqual(frame.meta)
            expect(message.payload).toEqual(frame.payload)
          }
          expect(results).toEqual([])
          expect(outcome.error).toBeUndefined()
        }),
        { numRuns: SMALLER }
      )
    },
    TIMEOUT
  )

  it(`refuses any declared length over the limit from the prefix alone (${SMALLER} runs)`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MAX_FRAME + 1, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ maxLength: 16 }),
        (length, rest) => {
          const reader = new MessageFrameReader(limits)
          const prefix = varintBytes(length)
          reader.push(prefix)
          expect(() => reader.next()).toThrow(expect.objectContaining({ kind: 'too-large' }))
          // nothing beyond the prefix was waited for or kept
          expect(reader.buffered).toBe(prefix.byteLength)
          const decoder = new FrameDecoder(MAX_FRAME)
          expect(() => decoder.push(Buffer.concat([prefix, rest]))).toThrow(
            expect.objectContaining({ kind: 'too-large' })
          )
        }
      ),
      { numRuns: SMALLER }
    )
  })

  it(`FrameDecoder, decodeMessageFrame and decodeAck throw only FrameError (${SMALLER} runs)`, () => {
    const onlyFrameErrors = (work: () => unknown) => {
      try {
        work()
      } catch (error) {
        if (!(error instanceof FrameError)) throw error
      }
    }
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (bytes, points) => {
          const decoder = new FrameDecoder(MAX_FRAME)
          onlyFrameErrors(() => {
            for (const chunk of split(bytes, points)) {
              for (const body of decoder.push(chunk)) {
                expect(body.byteLength).toBeLessThanOrEqual(MAX_FRAME)
                onlyFrameErrors(() => decodeAck(body))
                onlyFrameErrors(() => decodeMessageFrame(body, limits))
              }
              expect(decoder.buffered).toBeLessThan(Math.max(MAX_FRAME, 8))
            }
          })
          onlyFrameErrors(() => decodeAck(bytes))
          onlyFrameErrors(() => decodeMessageFrame(bytes, limits))
        }
      ),
      { numRuns: SMALLER }
    )
  })
})

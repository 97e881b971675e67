import { describe, expect, it } from 'vitest'
import { encodeMessageFrame, varintBytes } from '../src/envelope-codec.js'
import { MessageFrameReader, type ReaderEvent } from '../src/message-frame-reader.js'

const limits = { maxMessageBytes: 1024, maxHeaderBytes: 256, maxIdBytes: 32 }

function events(reader: MessageFrameReader, decide: 'accept' | 'skip' = 'accept'): ReaderEvent[] {
  const seen: ReaderEvent[] = []
  for (let event = reader.next(); event !== undefined; event = reader.next()) {
    seen.push(event)
    if (event.kind === 'header') reader[decide]()
  }
  return seen
}

const wire = (sequence: number, id: string, payload = new Uint8Array(600).fill(9)) =>
  encodeMessageFrame({ sequence, id, protocol: '/p/1', payload }).slice()

describe('MessageFrameReader', () => {
  it('returns a header before its payload has arrived, then the payload once accepted', () => {
    const bytes = wire(0, 'm-1')
    const reader = new MessageFrameReader(limits)
    reader.push(bytes.subarray(0, 20))
    expect(events(reader)).toEqual([
      {
        kind: 'header',
        header: { sequence: 0, id: 'm-1', protocol: '/p/1', headerBytes: 12 },
        payloadBytes: 600
      }
    ])
    reader.push(bytes.subarray(20))
    const [message] = events(reader)
    expect(message).toMatchObject({ kind: 'message', frameBytes: 612 })
    expect((message as { payload: Uint8Array }).payload).toEqual(new Uint8Array(600).fill(9))
    expect(reader.buffered).toBe(0)
  })

  it('discards a skipped payload as it arrives, holding none of it', () => {
    const bytes = Buffer.concat([wire(0, 'skip-me'), wire(1, 'keep-me')])
    const reader = new MessageFrameReader(limits)
    reader.push(bytes.subarray(0, 30))
    expect(events(reader, 'skip').map((event) => event.kind)).toEqual(['header'])
    expect(reader.buffered).toBe(0)
    reader.push(bytes.subarray(30, 300))
    expect(events(reader)).toEqual([])
    expect(reader.buffered).toBe(0)
    reader.push(bytes.subarray(300))
    expect(events(reader).map((event) => event.kind)).toEqual(['skipped', 'header', 'message'])
  })

  it('refuses an id over the limit from its declared length, before any of it arrives', () => {
    const reader = new MessageFrameReader(limits)
    reader.push(Uint8Array.of(...varintBytes(900), 1, 0, ...varintBytes(800)))
    expect(events(reader)).toEqual([
      {
        kind: 'refused',
        sequence: 0,
        code: 'id-too-long',
        reason: 'message id of 800 bytes exceeds 32',
        frameBytes: 900
      }
    ])
  })

  it('refuses a header that would pass maxHeaderBytes as soon as a length says so', () => {
    const reader = new MessageFrameReader(limits)
    // id "a", then a protocol of 300 bytes announced: the header cannot fit 256
    reader.push(Uint8Array.of(...varintBytes(1000), 1, 7, 1, 97, ...varintBytes(300)))
    expect(events(reader)).toMatchObject([{ kind: 'refused', sequence: 7, code: 'too-large' }])
    expect(reader.buffered).toBe(0)
  })

  it('throws FrameError on an empty body instead of waiting for bytes that never come', () => {
    const reader = new MessageFrameReader(limits)
    reader.push(Uint8Array.of(0, 1, 0, 1, 97))
    expect(() => reader.next()).toThrow(
      expect.objectContaining({ name: 'FrameError', kind: 'malformed' })
    )
  })
})

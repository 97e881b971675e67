import { describe, expect, it } from 'vitest'
import { formatGoTime, goString, goTimeWritable, parseGoTime } from '../src/go-json.js'

describe("Go's encoding/json strings (Go >= 1.22, HTML-safe, the json.Marshal default)", () => {
  it.each([
    ['plain', '"plain"'],
    ['quote " and backslash \\', '"quote \\" and backslash \\\\"'],
    ['\b\f\n\r\t', '"\\b\\f\\n\\r\\t"'],
    ['\u0000\u0001\u001f\u007f', '"\\u0000\\u0001\\u001f\u007f"'],
    ['<a href="x">&amp;</a>', '"\\u003ca href=\\"x\\"\\u003e\\u0026amp;\\u003c/a\\u003e"'],
    ['line\u2028para\u2029', '"line\\u2028para\\u2029"'],
    ['ünïcødé ✓ 😀', '"ünïcødé ✓ 😀"'],
    ['lone \ud800 surrogate \udfff', '"lone \\ufffd surrogate \\ufffd"']
  ])('%j', (value, expected) => {
    expect(goString(value)).toBe(expected)
    // and it is JSON that means the same string (lone surrogates aside)
    if (!/[\ud800-\udfff]/.test(value) || /😀/.test(value)) expect(JSON.parse(expected)).toBe(value)
  })
})

describe("Go's time.Time in JSON (RFC 3339, nanoseconds)", () => {
  it('formats UTC milliseconds as Go does, trailing zeros of the fraction removed', () => {
    expect(formatGoTime(Date.UTC(2025, 0, 2, 3, 4, 5, 60))).toBe('2025-01-02T03:04:05.06Z')
    expect(formatGoTime(Date.UTC(2025, 0, 2, 3, 4, 5, 0))).toBe('2025-01-02T03:04:05Z')
    expect(formatGoTime(Date.UTC(1969, 11, 31, 23, 59, 59, 999))).toBe('1969-12-31T23:59:59.999Z')
    expect(formatGoTime(-62_135_596_800_000)).toBe('0001-01-01T00:00:00Z')
  })

  it('writes only what Go can: whole milliseconds in years 0000 to 9999', () => {
    expect(goTimeWritable(1.5)).toBe(false)
    expect(goTimeWritable(Date.UTC(10000, 0, 1))).toBe(false)
    expect(goTimeWritable(Date.UTC(9999, 11, 31))).toBe(true)
    expect(() => formatGoTime(0.5)).toThrow(RangeError)
  })

  it('parses offsets and nanoseconds, truncating to milliseconds', () => {
    expect(parseGoTime('2025-03-14T09:26:53.589793238+01:00')).toBe(
      Date.UTC(2025, 2, 14, 8, 26, 53, 589)
    )
    expect(parseGoTime('2024-12-31T23:59:59.5-05:30')).toBe(Date.UTC(2025, 0, 1, 5, 29, 59, 500))
    expect(parseGoTime('0001-01-01T00:00:00Z')).toBe(-62_135_596_800_000)
    expect(parseGoTime('1969-12-31T23:59:59.9999999Z')).toBe(-1)
    for (const ms of [0, 1, 1_700_000_000_123, -1, Date.UTC(2000, 1, 29, 12)]) {
      expect(parseGoTime(formatGoTime(ms))).toBe(ms)
    }
  })

  it.each([
    '2025-02-29T00:00:00Z',
    '2025-13-01T00:00:00Z',
    '2025-01-01 00:00:00Z',
    '2025-01-01T00:00:00',
    'yesterday'
  ])('rejects %s', (text) => {
    expect(() => parseGoTime(text)).toThrow(RangeError)
  })
})

import type { Policy } from '@dntkit/core'
import { JSONL_INPUT_FIELDS, MAX_PAYLOAD_BYTES } from './constants.js'
import { UsageError } from './errors.js'
import { readInputFile } from './key-file.js'
import { checkLevel } from './policy-file.js'

/** One message `dnt send` is to send. */
export interface OutgoingMessage {
  payload: Uint8Array
  protocol: string
  /** Level forced by the line or `--level`; otherwise the policy decides. */
  level?: string
  id?: string
  /** Where it came from, for messages: `--data`, `--file PATH`, `--jsonl PATH line N`. */
  source: string
}

/** Where the payloads come from: exactly one of the three. */
export type MessageSource = { data: string } | { file: string } | { jsonl: string }

export interface MessageDefaults {
  protocol?: string
  level?: string
  policy: Policy
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

function checkSize(payload: Uint8Array, where: string): void {
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    throw new UsageError(
      `${where}: payload of ${payload.byteLength} bytes exceeds the maximum of ${MAX_PAYLOAD_BYTES} bytes`
    )
  }
}

function single(payload: Uint8Array, where: string, defaults: MessageDefaults): OutgoingMessage {
  checkSize(payload, where)
  if (defaults.protocol === undefined) throw new UsageError('missing required flag --protocol ID')
  const message: OutgoingMessage = { payload, protocol: defaults.protocol, source: where }
  if (defaults.level !== undefined) message.level = defaults.level
  return message
}

function field(line: Record<string, unknown>, name: string, where: string): string | undefined {
  const value = line[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0) {
    throw new UsageError(`${where}: "${name}" must be a non-empty string`)
  }
  return value
}

function parseLine(text: string, where: string, defaults: MessageDefaults): OutgoingMessage {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${where}: not valid JSON (${(error as Error).message})`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(
      `${where}: expected a JSON object like {"data": "text"} or {"base64": "..."}`
    )
  }
  const line = value as Record<string, unknown>
  for (const key of Object.keys(line)) {
    if (!(JSONL_INPUT_FIELDS as readonly string[]).includes(key)) {
      throw new UsageError(
        `${where}: unknown field "${key}" (fields: ${JSONL_INPUT_FIELDS.join(', ')})`
      )
    }
  }
  if ((line.data === undefined) === (line.base64 === undefined)) {
    throw new UsageError(`${where}: give exactly one of "data" (text) or "base64" (bytes)`)
  }
  let payload: Uint8Array
  if (line.data !== undefined) {
    if (typeof line.data !== 'string') throw new UsageError(`${where}: "data" must be a string`)
    payload = new TextEncoder().encode(line.data)
  } else {
    if (typeof line.base64 !== 'string' || !BASE64.test(line.base64)) {
      throw new UsageError(`${where}: "base64" must be a string of standard, padded base64`)
    }
    payload = Uint8Array.from(Buffer.from(line.base64, 'base64'))
  }
  checkSize(payload, where)
  const protocol = field(line, 'protocol', where) ?? defaults.protocol
  if (protocol === undefined)
    throw new UsageError(`${where}: no "protocol", and no --protocol given`)
  const message: OutgoingMessage = { payload, protocol, source: where }
  const id = field(line, 'id', where)
  if (id !== undefined) message.id = id
  const level = field(line, 'level', where) ?? defaults.level
  if (level !== undefined) {
    checkLevel(defaults.policy, level, where)
    message.level = level
  }
  return message
}

/** Every line of a JSONL file (blank lines skipped), checked before anything is sent. */
export function parseJsonl(
  text: string,
  name: string,
  defaults: MessageDefaults
): OutgoingMessage[] {
  const messages: OutgoingMessage[] = []
  const ids = new Map<string, number>()
  const lines = text.split('\n')
  lines.forEach((raw, index) => {
    const line = raw.replace(/\r$/, '')
    if (line.trim() === '') return
    const where = `--jsonl ${name} line ${index + 1}`
    const message = parseLine(line, where, defaults)
    if (message.id !== undefined) {
      const first = ids.get(message.id)
      if (first !== undefined)
        throw new UsageError(`${where}: id "${message.id}" repeats line ${first}`)
      ids.set(message.id, index + 1)
    }
    messages.push(message)
  })
  if (messages.length === 0) throw new UsageError(`--jsonl ${name}: no messages in it`)
  return messages
}

/** Reads and checks the messages of `--data`, `--file` or `--jsonl` (`-` is `stdin`). */
export async function readMessages(
  source: MessageSource,
  defaults: MessageDefaults,
  stdin?: AsyncIterable<Uint8Array>
): Promise<OutgoingMessage[]> {
  if (defaults.level !== undefined) checkLevel(defaults.policy, defaults.level, '--level')
  if ('data' in source) return [single(new TextEncoder().encode(source.data), '--data', defaults)]
  if ('file' in source) {
    return [single(readInputFile(source.file, '--file'), `--file ${source.file}`, defaults)]
  }
  const bytes = source.jsonl === '-' ? await readAll(stdin) : readInputFile(source.jsonl, '--jsonl')
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new UsageError(`--jsonl ${source.jsonl}: not UTF-8 text`)
  }
  return parseJsonl(text, source.jsonl, defaults)
}

/**
 * Standard input, read as a stream: `readFileSync(0)` would do, but on Node
 * 20 it breaks the resolution of ES modules imported afterwards.
 */
async function readAll(stdin: AsyncIterable<Uint8Array> | undefined): Promise<Uint8Array> {
  if (stdin === undefined) throw new UsageError('--jsonl -: no standard input to read from')
  const chunks: Uint8Array[] = []
  for await (const chunk of stdin) chunks.push(chunk)
  return Buffer.concat(chunks)
}

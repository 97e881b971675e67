import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs'
import type { CliIo } from './command.js'
import { UsageError } from './errors.js'
import { formatBytes, shortPeer, utf8Text } from './format.js'

/** One received message, as `dnt listen` reports it. */
export interface ReceivedMessage {
  /** The sender's message id (envelope mode only). */
  id?: string
  from: string
  protocol: string
  payload: Uint8Array
  receivedAt: Date
}

/** The JSONL record of a received message: `{"id"?, "from", "protocol", "data"?, "base64", "receivedAt"}`. */
export function receivedRecord(message: ReceivedMessage): Record<string, string> {
  const record: Record<string, string> = {}
  if (message.id !== undefined) record.id = message.id
  record.from = message.from
  record.protocol = message.protocol
  const text = utf8Text(message.payload)
  if (text !== undefined) record.data = text
  record.base64 = Buffer.from(message.payload).toString('base64')
  record.receivedAt = message.receivedAt.toISOString()
  return record
}

/** Where `dnt listen` writes what it receives. */
export interface ReceivedOutput {
  /** Writes one message; for a file, durably before it resolves (so an ack means "on disk"). */
  write(message: ReceivedMessage): void
  close(): void
}

/** A human line per message on stdout. */
function humanOutput(io: CliIo): ReceivedOutput {
  return {
    write(message) {
      const text = utf8Text(message.payload)
      const body =
        text === undefined
          ? `(${formatBytes(message.payload.byteLength)} binary)`
          : JSON.stringify(text)
      const id = message.id === undefined ? '' : ` ${message.id}`
      io.stdout.write(
        `${message.receivedAt.toISOString()} ${shortPeer(message.from)} ${message.protocol}${id} ${body}\n`
      )
    },
    close() {}
  }
}

/** JSONL on stdout (`--jsonl -`) or appended to a file, one fdatasync per line. */
function jsonlOutput(io: CliIo, path: string): ReceivedOutput {
  if (path === '-') {
    return {
      write: (message) => io.stdout.write(`${JSON.stringify(receivedRecord(message))}\n`),
      close() {}
    }
  }
  let descriptor: number
  try {
    descriptor = openSync(path, 'a', 0o600)
  } catch (error) {
    throw new UsageError(
      `--jsonl ${path}: cannot open it for appending (${(error as { code?: string }).code ?? error})`
    )
  }
  return {
    write(message) {
      writeSync(descriptor, `${JSON.stringify(receivedRecord(message))}\n`)
      fdatasyncSync(descriptor)
    },
    close() {
      closeSync(descriptor)
    }
  }
}

/** The output `--jsonl` asks for: JSONL to a file or stdout, or human lines. */
export function receivedOutput(io: CliIo, jsonl: string | undefined): ReceivedOutput {
  return jsonl === undefined ? humanOutput(io) : jsonlOutput(io, jsonl)
}

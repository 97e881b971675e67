import { closeSync, fdatasyncSync, openSync, statSync, writeSync } from 'node:fs'
import type { CliIo } from './command.js'
import { UsageError } from './errors.js'
import { utf8Text } from './format.js'

/** `--reply-out FILE` of `send` and `flush`. */
export const REPLY_OUT_FLAG = {
  type: 'string',
  value: 'FILE',
  description:
    'append each reply as a JSON line {"id", "data"?, "base64"} to FILE (fsynced) instead of printing it'
} as const

/** A reply as `--json` and `--reply-out` write it: `{"data"?, "base64"}` (`data` when it is UTF-8). */
export function replyJson(reply: Uint8Array): { data?: string; base64: string } {
  const text = utf8Text(reply)
  const base64 = Buffer.from(reply).toString('base64')
  return text === undefined ? { base64 } : { data: text, base64 }
}

/** The stdout line of a reply: `reply ID: "text"` (JSON-quoted UTF-8), else `reply ID: base64 ...`. */
export function replyLine(id: string, reply: Uint8Array): string {
  const text = utf8Text(reply)
  return text === undefined
    ? `reply ${id}: base64 ${Buffer.from(reply).toString('base64')}`
    : `reply ${id}: ${JSON.stringify(text)}`
}

/** Where `send` and `flush` put the replies they get. */
export interface ReplyOutput {
  /**
   * Reports one reply (durably, for a file) before it resolves; throws when
   * it could not (the caller keeps the reply in the store).
   */
  write(id: string, reply: Uint8Array): void
  /** Every reply reported, in order (for `--json`). */
  readonly written: Array<{ id: string; reply: Uint8Array }>
  close(): void
}

/**
 * Opens `--reply-out FILE` for appending (created 0600), or prints to
 * stdout, or (with `--json`) only collects. A file that cannot be opened is
 * an input error, reported before anything is sent.
 */
export function replyOutput(io: CliIo, file: string | undefined, json: boolean): ReplyOutput {
  const written: ReplyOutput['written'] = []
  if (file === undefined) {
    return {
      written,
      write(id, reply) {
        written.push({ id, reply })
        if (!json) io.stdout.write(`${replyLine(id, reply)}\n`)
      },
      close() {}
    }
  }
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory() === true)
    throw new UsageError(`--reply-out ${file}: is a directory`)
  let descriptor: number
  try {
    descriptor = openSync(file, 'a', 0o600)
  } catch (error) {
    throw new UsageError(
      `--reply-out ${file}: cannot open it for appending (${(error as { code?: string }).code ?? error})`
    )
  }
  return {
    written,
    write(id, reply) {
      writeSync(descriptor, `${JSON.stringify({ id, ...replyJson(reply) })}\n`)
      fdatasyncSync(descriptor)
      written.push({ id, reply })
    },
    close() {
      closeSync(descriptor)
    }
  }
}

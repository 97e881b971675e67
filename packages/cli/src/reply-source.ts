import { spawn } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { REPLY_COMMAND_STDERR_BYTES, REPLY_COMMAND_TIMEOUT } from './constants.js'
import { UsageError } from './errors.js'

/** What `dnt listen --reply` answers a message with. */
export type ReplySource = (message: {
  id?: string
  from: string
  protocol: string
  payload: Uint8Array
}) => Promise<Uint8Array>

/** `--reply SOURCE` of `listen`. */
export const REPLY_FLAG = {
  type: 'string',
  value: 'file:PATH|exec:COMMAND',
  description:
    'answer every message: with the bytes of PATH, or with what COMMAND (sh -c, payload on stdin) writes to stdout'
} as const

const KiB = 1024

function size(bytes: number): string {
  return bytes % KiB === 0 ? `${bytes / KiB} KiB` : `${bytes} bytes`
}

/** The fixed reply of `file:PATH`, read once at start and checked against `maxReplyBytes`. */
function fileReply(path: string, maxReplyBytes: number): ReplySource {
  if (path === '') throw new UsageError('flag --reply file: needs a path, e.g. file:reply.json')
  const stat = statSync(path, { throwIfNoEntry: false })
  if (stat === undefined) throw new UsageError(`--reply file:${path}: no such file`)
  if (!stat.isFile()) throw new UsageError(`--reply file:${path}: not a regular file`)
  if (stat.size > maxReplyBytes) {
    throw new UsageError(
      `--reply file:${path} has ${stat.size} bytes, over the ${size(maxReplyBytes)} a reply may have (--max-reply-bytes)`
    )
  }
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(readFileSync(path))
  } catch (error) {
    throw new UsageError(
      `--reply file:${path}: cannot read it (${(error as { code?: string }).code ?? error})`
    )
  }
  return async () => bytes
}

/**
 * `exec:COMMAND`: `/bin/sh -c COMMAND` per message, the payload on its stdin
 * and `DNT_ID` (envelope mode), `DNT_FROM`, `DNT_PROTOCOL` in its
 * environment; its stdout is the reply. It fails (and the handler with it:
 * the sender retries) when it exits with another status than 0, is killed,
 * writes more than `maxReplyBytes`, or runs longer than 10 s.
 */
function commandReply(command: string, maxReplyBytes: number): ReplySource {
  if (command.trim() === '')
    throw new UsageError('flag --reply exec: needs a command, e.g. exec:./answer.sh')
  return (message) =>
    new Promise<Uint8Array>((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', command], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: {
          ...process.env,
          DNT_FROM: message.from,
          DNT_PROTOCOL: message.protocol,
          ...(message.id === undefined ? {} : { DNT_ID: message.id })
        }
      })
      const stdout: Buffer[] = []
      let stdoutBytes = 0
      let stderr = ''
      let failure: Error | undefined
      const fail = (reason: string): void => {
        failure ??= new Error(`the --reply command ${reason}`)
        child.kill('SIGKILL')
      }
      const timer = setTimeout(
        () => fail(`did not finish within ${REPLY_COMMAND_TIMEOUT / 1000} s`),
        REPLY_COMMAND_TIMEOUT
      )
      child.stdout.on('data', (chunk: Buffer) => {
        stdoutBytes += chunk.byteLength
        if (stdoutBytes > maxReplyBytes)
          fail(`wrote more than ${size(maxReplyBytes)} (--max-reply-bytes)`)
        else stdout.push(chunk)
      })
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        if (stderr.length < REPLY_COMMAND_STDERR_BYTES) stderr += chunk
      })
      // a command that does not read its stdin closes it early: not a failure
      child.stdin.on('error', () => {})
      child.once('error', (error) => fail(`could not start: ${error.message}`))
      child.once('close', (code, signal) => {
        clearTimeout(timer)
        const said = stderr.trim().split('\n').at(-1)
        const detail = said ? `: ${said.slice(0, 200)}` : ''
        if (failure !== undefined) reject(failure)
        else if (code === 0) resolve(new Uint8Array(Buffer.concat(stdout)))
        else
          reject(
            new Error(
              `the --reply command ${signal === null ? `exited with status ${code}` : `was killed by ${signal}`}${detail}`
            )
          )
      })
      child.stdin.end(message.payload)
    })
}

/** The `--reply` value, checked (a file is read now); `undefined` without the flag. */
export function replySource(
  value: string | undefined,
  maxReplyBytes: number
): ReplySource | undefined {
  if (value === undefined) return undefined
  if (value.startsWith('file:')) return fileReply(value.slice(5), maxReplyBytes)
  if (value.startsWith('exec:')) return commandReply(value.slice(5), maxReplyBytes)
  throw new UsageError(
    `flag --reply expects file:PATH or exec:COMMAND, got ${JSON.stringify(value)}`
  )
}

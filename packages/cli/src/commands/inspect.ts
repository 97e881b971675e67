import type { Entry, PendingReply } from '@dntkit/core'
import { requiredFlag } from '../arguments.js'
import { type Command, printJson, say } from '../command.js'
import { EXIT_OK, TABLE_ERROR_WIDTH } from '../constants.js'
import {
  briefError,
  entryToJson,
  formatAge,
  formatBytes,
  isoTime,
  jsonTime,
  shortPeer,
  table,
  truncate,
  utf8Text
} from '../format.js'
import { readKeyFile } from '../key-file.js'
import { replyJson } from '../reply-output.js'
import { readOnly, withQueue } from '../store-session.js'
import { parseStoreUri } from '../store-uri.js'
import { inspectSpec } from './inspect-spec.js'

/** The rows of the entries table shared by `inspect` and `dead`. */
export function entriesTable(entries: Entry[], now: number, dead = false): string {
  const headers = [
    'ID',
    'PEER',
    'PROTOCOL',
    'LEVEL',
    'ATTEMPTS',
    'AGE',
    'SIZE',
    dead ? 'REASON' : 'LAST ERROR'
  ]
  const rows = entries.map((entry) => [
    entry.id,
    shortPeer(entry.peer),
    entry.protocol,
    entry.level,
    String(entry.attempts),
    formatAge(now - entry.createdAt),
    formatBytes(entry.payload.byteLength),
    dead
      ? `${entry.deadLetter?.reason ?? ''}${entry.lastError ? `: ${briefError(entry.lastError, TABLE_ERROR_WIDTH)}` : ''}`
      : briefError(entry.lastError ?? '', TABLE_ERROR_WIDTH)
  ])
  return table(headers, rows, [4, 5, 6])
}

/** A reply waiting to be taken, as `inspect --json` prints it. */
function pendingReplyToJson(pending: PendingReply): Record<string, unknown> {
  return {
    id: pending.id,
    peer: pending.peer,
    protocol: pending.protocol,
    level: pending.level,
    delivered: { at: jsonTime(pending.deliveredAt), atIso: isoTime(pending.deliveredAt) },
    reply: replyJson(pending.reply)
  }
}

/** The table of replies waiting to be taken. */
function repliesTable(replies: PendingReply[], now: number): string {
  const rows = replies.map((pending) => {
    const text = utf8Text(pending.reply)
    return [
      pending.id,
      shortPeer(pending.peer),
      pending.protocol,
      formatAge(now - pending.deliveredAt),
      formatBytes(pending.reply.byteLength),
      text === undefined ? '(binary)' : truncate(JSON.stringify(text), TABLE_ERROR_WIDTH)
    ]
  })
  return table(['REPLY TO', 'PEER', 'PROTOCOL', 'DELIVERED', 'SIZE', 'REPLY'], rows, [3, 4])
}

export const inspectCommand: Command = {
  spec: inspectSpec,
  async run({ io, flags }) {
    const identity = readKeyFile(requiredFlag(flags, 'key'))
    const location = parseStoreUri(requiredFlag(flags, 'store'))
    const [queued, dead, replies] = await withQueue(
      location,
      identity,
      '--store',
      async (outbox) =>
        [outbox?.entries() ?? [], outbox?.deadLetters() ?? [], outbox?.replies() ?? []] as const,
      readOnly(io, 'inspect')
    )
    if (flags.json === true) {
      printJson(io, [...[...queued, ...dead].map(entryToJson), ...replies.map(pendingReplyToJson)])
      return EXIT_OK
    }
    const bytes = queued.reduce((sum, entry) => sum + entry.payload.byteLength, 0)
    const now = Date.now()
    if (queued.length > 0) say(io, entriesTable(queued, now))
    say(
      io,
      `${queued.length} queued (${formatBytes(bytes)}), ${dead.length} dead-lettered${dead.length > 0 ? ' (see dnt dead)' : ''}`
    )
    if (replies.length > 0) {
      say(io, repliesTable(replies, now))
      say(
        io,
        `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'} waiting to be taken (dnt flush prints and takes them)`
      )
    }
    return EXIT_OK
  }
}

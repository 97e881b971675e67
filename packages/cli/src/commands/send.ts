import { DeliveryRejectedError, describeError, levelOf, type Message } from '@dntkit/core'
import { listFlag, oneOf, requiredFlag, secondsFlag, stringFlag } from '../arguments.js'
import { type Command, note, printJson, say } from '../command.js'
import { EXIT_FAILURE, EXIT_OK, EXIT_QUEUED, MAX_WAIT_SECONDS } from '../constants.js'
import { MODE_META_KEY, startDelivery, untilAborted } from '../delivery-session.js'
import { UsageError } from '../errors.js'
import { readKeyFile } from '../key-file.js'
import { type MessageSource, type OutgoingMessage, readMessages } from '../message-input.js'
import { modeFlag } from '../mode-flag.js'
import { loadPolicy } from '../policy-file.js'
import { type ReplyOutput, replyJson, replyLine, replyOutput } from '../reply-output.js'
import { checkStoreLocation, parseStoreUri } from '../store-uri.js'
import { parseMultiaddr, parseTarget } from '../target.js'
import { volatileWarning } from './flush.js'
import { sendSpec } from './send-spec.js'

/** What became of one message of this run. */
export interface MessageReport {
  id?: string
  source: string
  protocol: string
  level: string
  status: 'delivered' | 'queued' | 'abandoned' | 'rejected' | 'expired' | 'failed'
  error?: string
  /** The receiver's reply (`--json`: `{"data"?, "base64"}`), when it gave one. */
  reply?: { data?: string; base64: string }
}

/**
 * Reports a reply `send()` returned (delivered at once: it is in no store).
 * When `--reply-out` cannot take it, it goes to stdout rather than nowhere.
 */
function reportAtOnce(
  output: ReplyOutput,
  io: Parameters<Command['run']>[0]['io'],
  id: string,
  reply: Uint8Array,
  failed: (error: Error) => void
): void {
  try {
    output.write(id, reply)
  } catch (error) {
    failed(error instanceof Error ? error : new Error(String(error)))
    io.stdout.write(`${replyLine(id, reply)}\n`)
  }
}

const MAX_FAILURE_LINES = 10

export const sendCommand: Command = {
  spec: sendSpec,
  async run({ io, flags, log }) {
    const identity = readKeyFile(requiredFlag(flags, 'key'))
    const target = parseTarget(requiredFlag(flags, 'to'))
    if (target.peer === identity.peerId) {
      throw new UsageError(
        `--to ${target.peer} is this node's own peer id (--key ${identity.file})`
      )
    }
    const policy = loadPolicy(stringFlag(flags, 'policy'))
    const mode = modeFlag(flags)
    const listen = listFlag(flags, 'listen').map((address) =>
      parseMultiaddr(address, '--listen').toString()
    )
    const wait = secondsFlag(flags, 'wait', MAX_WAIT_SECONDS)
    const sourceFlag = oneOf(flags, ['data', 'file', 'jsonl'])
    const source = { [sourceFlag]: requiredFlag(flags, sourceFlag) } as MessageSource
    const defaults: { protocol?: string; level?: string; policy: typeof policy } = { policy }
    const protocol = stringFlag(flags, 'protocol')
    if (protocol !== undefined) defaults.protocol = protocol
    const level = stringFlag(flags, 'level')
    if (level !== undefined) defaults.level = level
    const messages = await readMessages(source, defaults, io.stdin)
    const location = parseStoreUri(requiredFlag(flags, 'store'))
    checkStoreLocation(location)
    const json = flags.json === true
    const replies = replyOutput(io, stringFlag(flags, 'reply-out'), json)
    // the replies of this run's messages only: earlier ones stay for dnt flush
    const ownIds = new Set<string>()
    let replyFailure: Error | undefined
    const failedReply = (error: Error): void => {
      replyFailure ??= error
    }

    const session = await startDelivery({
      identity,
      location,
      policy,
      mode,
      listen,
      io,
      log,
      replies: { output: replies, wants: (id) => ownIds.has(id) }
    }).catch((error: unknown) => {
      replies.close()
      throw error
    })
    const toMessage = (input: OutgoingMessage): Message => {
      const message: Message = {
        peer: target.peer,
        addrs: target.addrs,
        protocol: input.protocol,
        payload: input.payload
      }
      if (input.id !== undefined) message.id = input.id
      if (mode === 'envelope') message.meta = { [MODE_META_KEY]: 'envelope' }
      return message
    }
    let reports: MessageReport[]
    let volatile: number | undefined
    try {
      const sending = Promise.all(
        messages.map(async (input) => {
          const report: MessageReport = {
            source: input.source,
            protocol: input.protocol,
            level: input.level ?? levelOf(policy, input.protocol),
            status: 'failed'
          }
          if (input.id !== undefined) report.id = input.id
          try {
            const result = await session.outbox.send(
              toMessage(input),
              input.level === undefined ? {} : { level: input.level }
            )
            report.id = result.id
            ownIds.add(result.id)
            report.status = result.status
            if (result.reply !== undefined) {
              report.reply = replyJson(result.reply)
              reportAtOnce(replies, io, result.id, result.reply, failedReply)
            }
          } catch (error) {
            report.status = DeliveryRejectedError.isInstance(error) ? 'rejected' : 'failed'
            report.error = describeError(error)
          }
          return report
        })
      )
      // a signal while first attempts run (a peer that does not answer): stop now; the stop
      // settles each send, after at most the outbox's stop timeout
      await Promise.race([sending, untilAborted(io.signal)])
      if (io.signal.aborted) {
        volatile = session.volatile().length
        await session.stop()
      }
      const sent = await sending
      if (!io.signal.aborted) {
        await session.settle()
        if (wait !== undefined && session.outbox.size > 0) await session.drain(wait)
      }
      reports = sent.map((report) => {
        const outcome = report.id === undefined ? undefined : session.outcomes.get(report.id)
        if (outcome === undefined) return report
        const final: MessageReport = { ...report, status: outcome.status }
        if (outcome.error !== undefined) final.error = outcome.error
        if (outcome.reply !== undefined) final.reply = replyJson(outcome.reply)
        return final
      })
      volatile ??= session.volatile().length
    } finally {
      await session.stop()
      replies.close()
    }
    replyFailure ??= session.replyFailure()

    const count = (status: MessageReport['status']): number =>
      reports.filter((report) => report.status === status).length
    const queued = count('queued')
    const delivered = count('delivered')
    const failures = reports.filter(
      (report) => report.status !== 'delivered' && report.status !== 'queued'
    )
    if (json) {
      printJson(io, {
        delivered,
        queued,
        abandoned: count('abandoned') + count('expired'),
        failed: count('rejected') + count('failed'),
        peer: target.peer,
        store: location.uri,
        messages: reports
      })
    } else {
      say(io, `delivered ${delivered} of ${reports.length} to ${target.peer}`)
      if (queued > 0) {
        say(io, `queued ${queued} in ${location.uri}; \`dnt flush\` retries them`)
      }
      if (failures.length > 0) say(io, `not delivered and not queued: ${failures.length}`)
    }
    for (const report of failures.slice(0, MAX_FAILURE_LINES)) {
      note(io, `${report.source}: ${report.status}${report.error ? `: ${report.error}` : ''}`)
    }
    if (failures.length > MAX_FAILURE_LINES)
      note(io, `... and ${failures.length - MAX_FAILURE_LINES} more`)
    if (volatile > 0) note(io, volatileWarning(volatile, location.uri))
    if (replyFailure !== undefined) {
      note(
        io,
        `cannot write --reply-out ${stringFlag(flags, 'reply-out')}: ${replyFailure.message}; replies delivered with their send went to stdout, later ones stay in the store for dnt flush`
      )
      return EXIT_FAILURE
    }
    if (queued > 0) return EXIT_QUEUED
    return failures.length > 0 ? EXIT_FAILURE : EXIT_OK
  }
}

import { listFlag, requiredFlag, secondsFlag, stringFlag } from '../arguments.js'
import { type Command, note, printJson, say } from '../command.js'
import { EXIT_FAILURE, EXIT_OK, EXIT_QUEUED, MAX_WAIT_SECONDS } from '../constants.js'
import { startDelivery } from '../delivery-session.js'
import { readKeyFile } from '../key-file.js'
import { modeFlag } from '../mode-flag.js'
import { loadPolicy } from '../policy-file.js'
import { replyJson, replyOutput } from '../reply-output.js'
import { checkStoreLocation, parseStoreUri } from '../store-uri.js'
import { parseMultiaddr } from '../target.js'
import { flushSpec } from './flush-spec.js'

/** The warning for queued entries that do not survive the end of the process. */
export function volatileWarning(count: number, uri: string): string {
  const where = uri === 'memory:' ? 'the memory: store' : 'memory (their level does not persist)'
  return `warning: ${count} queued ${count === 1 ? 'message is' : 'messages are'} kept only in ${where} and ${count === 1 ? 'is' : 'are'} lost now that dnt exits`
}

export const flushCommand: Command = {
  spec: flushSpec,
  async run({ io, flags, log }) {
    const identity = readKeyFile(requiredFlag(flags, 'key'))
    const location = parseStoreUri(requiredFlag(flags, 'store'))
    const wait = secondsFlag(flags, 'wait', MAX_WAIT_SECONDS)
    const policy = loadPolicy(stringFlag(flags, 'policy'))
    const mode = modeFlag(flags)
    const listen = listFlag(flags, 'listen').map((address) =>
      parseMultiaddr(address, '--listen').toString()
    )
    const json = flags.json === true
    const replyOut = stringFlag(flags, 'reply-out')
    const { exists } = checkStoreLocation(location)
    if (!exists || location.kind === 'memory') {
      if (json)
        printJson(io, {
          delivered: 0,
          remaining: 0,
          abandoned: 0,
          deadLetters: 0,
          store: location.uri,
          replies: []
        })
      else say(io, `nothing queued in ${location.uri}`)
      return EXIT_OK
    }
    const replies = replyOutput(io, replyOut, json)
    const session = await startDelivery({
      identity,
      location,
      policy,
      mode,
      listen,
      io,
      log,
      replies: { output: replies, wants: () => true }
    }).catch((error: unknown) => {
      replies.close()
      throw error
    })
    let total: number
    let remaining: number
    let deadLetters: number
    try {
      // what earlier runs received and nobody took yet
      session.takeWaitingReplies()
      total = session.outbox.size
      if (total > 0) {
        await Promise.race([
          session.outbox.flush(),
          new Promise<void>((resolve) =>
            io.signal.addEventListener('abort', () => resolve(), { once: true })
          )
        ])
        if (wait !== undefined && session.outbox.size > 0 && !io.signal.aborted)
          await session.drain(wait)
      }
      remaining = session.outbox.size
      deadLetters = session.outbox.deadLetters().length
    } finally {
      await session.stop()
      replies.close()
    }
    const replyFailure = session.replyFailure()
    const outcomes = Array.from(session.outcomes.values())
    const delivered = outcomes.filter((outcome) => outcome.status === 'delivered').length
    const failures = outcomes.filter((outcome) => outcome.status !== 'delivered')
    if (json) {
      printJson(io, {
        delivered,
        remaining,
        abandoned: failures.length,
        deadLetters,
        store: location.uri,
        replies: replies.written.map(({ id, reply }) => ({ id, ...replyJson(reply) }))
      })
    } else {
      say(
        io,
        `delivered ${delivered} of ${total}${remaining > 0 ? `; ${remaining} remain queued in ${location.uri}` : ''}`
      )
      if (deadLetters > 0) say(io, `${deadLetters} dead-lettered (see dnt dead)`)
    }
    for (const failure of failures) {
      note(
        io,
        `${failure.entry.id} to ${failure.entry.peer}: ${failure.status}${failure.error ? `: ${failure.error}` : ''}`
      )
    }
    if (replyFailure !== undefined) {
      note(
        io,
        `cannot write --reply-out ${replyOut}: ${replyFailure.message}; the replies not written stay in the store`
      )
      return EXIT_FAILURE
    }
    if (remaining > 0) return EXIT_QUEUED
    return failures.length > 0 ? EXIT_FAILURE : EXIT_OK
  }
}

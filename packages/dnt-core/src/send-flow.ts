import { deliverOnce } from './deliver-once.js'
import type { Deliveries } from './deliveries.js'
import { rejectUnknownOptions } from './option-names.js'
import type { OutboxContext } from './outbox-context.js'
import { normalizeMessage } from './outgoing-message.js'
import { levelOf, NONE } from './policy.js'
import { admit, earlierSend, outcomeOf, type SendOutcome } from './send-admission.js'
import { SEND_FIELDS, type SendOptions, type SendResult } from './send-types.js'
import type { OutgoingMessage } from './types.js'
import { untilAborted } from './waiting.js'

function result(context: OutboxContext, id: string, outcome: SendOutcome): SendResult {
  const sent: SendResult = { id, status: outcome.status }
  if (outcome.reply !== undefined) sent.reply = outcome.reply
  if (outcome.status === 'queued') {
    const entry = context.index.byId.get(id)
    if (entry !== undefined) sent.nextAttemptAt = entry.nextAttemptAt
  }
  return sent
}

/**
 * What `Outbox.send()` does: checks the message and options, answers a
 * resent id as the first send was, makes a level `none` message one attempt,
 * and otherwise admits the entry, schedules its peer and waits for its first
 * outcome (`delivered`, or `queued` once durable). An abort before that drops it.
 */
export async function sendMessage(
  context: OutboxContext,
  deliveries: Deliveries,
  storeHealthy: boolean,
  message: OutgoingMessage,
  options: SendOptions
): Promise<SendResult> {
  rejectUnknownOptions(options, SEND_FIELDS, 'send options')
  const normalized = normalizeMessage(message)
  const { signal } = options
  signal?.throwIfAborted()
  const { policy } = context.options
  const levelName = options.level ?? levelOf(policy, normalized.protocol)
  if (levelName === NONE) return deliverOnce(context.options, normalized, signal)
  if (policy.levels[levelName] === undefined) throw new TypeError(`unknown level "${levelName}"`)
  const earlier = earlierSend(context, normalized)
  if (earlier !== undefined) {
    const id = normalized.id as string
    return result(
      context,
      id,
      earlier instanceof Promise ? await untilAborted(earlier, signal) : earlier
    )
  }
  const { entry, queue } = admit(context, normalized, levelName, storeHealthy)
  const outcome = outcomeOf(entry)
  context.reschedule(queue)
  if (signal === undefined) return result(context, entry.id, await outcome)
  const onAbort = (): void => {
    deliveries.cancel(queue, entry, signal.reason)
  }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return result(context, entry.id, await untilAborted(outcome, signal))
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

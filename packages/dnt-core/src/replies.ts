import type { EntryIndex } from './entry-index.js'
import type { OutboxContext } from './outbox-context.js'
import type { PendingReply } from './send-types.js'

/** The replies waiting to be taken, in the order they came. */
export function pendingReplies(index: EntryIndex): PendingReply[] {
  return Array.from(index.replies.values(), (entry) => {
    const { at, reply } = entry.delivered as { at: number; reply: Uint8Array }
    return {
      id: entry.id,
      peer: entry.peer,
      protocol: entry.protocol,
      level: entry.level,
      deliveredAt: at,
      reply
    }
  })
}

/** Takes the reply of `id` out of memory at once and out of the store once durable. */
export async function takeReply(
  context: OutboxContext,
  id: string
): Promise<Uint8Array | undefined> {
  const entry = context.index.replies.get(id)
  if (entry === undefined) return undefined
  context.index.replies.delete(id)
  await context.ledger.remove(entry)
  return entry.delivered?.reply
}

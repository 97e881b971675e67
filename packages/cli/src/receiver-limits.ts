import type { DntReceiverInit, ReceiverStats } from '@dntkit/transport-libp2p'
import type { FlagSpec, ParsedFlags } from './arguments.js'
import { stringFlag } from './arguments.js'
import { UsageError } from './errors.js'

/** The receiver's limits as `dnt listen` flags (defaults are the receiver's own). */
export const RECEIVER_LIMIT_FLAGS: Record<string, FlagSpec> = {
  'max-message-bytes': {
    type: 'string',
    value: 'SIZE',
    description:
      'largest payload (envelope) or raw message accepted, e.g. 1MiB (default 4MiB); larger: rejected / reset'
  },
  'max-reply-bytes': {
    type: 'string',
    value: 'SIZE',
    description:
      'largest reply (--reply) a message is answered with (default 64KiB); larger: rejected (envelope) / reset (raw)'
  },
  'idle-timeout': {
    type: 'string',
    value: 'SECONDS',
    description:
      'cut off a stream without a complete frame (envelope) or without its end (raw) for this long (default 20)'
  },
  'max-streams-per-peer': {
    type: 'string',
    value: 'N',
    description: 'streams one peer may have open at once, per mode (default 8); more are reset'
  },
  'max-buffered': {
    type: 'string',
    value: 'SIZE',
    description:
      'memory budget: bytes buffered at once over all peers and modes (default 64MiB); over it: try-later / reset'
  },
  'max-buffered-per-peer': {
    type: 'string',
    value: 'SIZE',
    description: "one peer's share of the memory budget (default 16MiB, at least one message)"
  },
  'rate-limit': {
    type: 'string',
    value: 'N|off',
    description:
      'messages per second one peer may send, sustained (default 1000; off: no limit); over it: try-later / reset'
  },
  'rate-burst': {
    type: 'string',
    value: 'N',
    description: 'messages one peer may send at once before the rate limit applies (default 50000)'
  }
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3
}

/** `--flag SIZE`: bytes, or a number with a unit (KiB, MiB, GiB; k, M, G are the same). */
function sizeFlag(flags: ParsedFlags, name: string): number | undefined {
  const text = stringFlag(flags, name)
  if (text === undefined) return undefined
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  const unit = UNITS[match?.[2]?.toLowerCase() ?? 'none']
  const bytes = match === null || unit === undefined ? Number.NaN : Number(match[1]) * unit
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new UsageError(
      `flag --${name} expects a size in bytes >= 1, e.g. 1048576, 512KiB or 4MiB, got "${text}"`
    )
  }
  return bytes
}

function countFlag(flags: ParsedFlags, name: string): number | undefined {
  const text = stringFlag(flags, name)
  if (text === undefined) return undefined
  const value = Number(text)
  if (text.trim() === '' || !Number.isSafeInteger(value) || value < 1)
    throw new UsageError(`flag --${name} expects a whole number >= 1, got "${text}"`)
  return value
}

/** The receiver options the limit flags give (only those given). */
export function receiverLimits(flags: ParsedFlags): Partial<DntReceiverInit> {
  const limits: Partial<DntReceiverInit> = {}
  const maxMessageBytes = sizeFlag(flags, 'max-message-bytes')
  if (maxMessageBytes !== undefined) limits.maxMessageBytes = maxMessageBytes
  const maxReplyBytes = sizeFlag(flags, 'max-reply-bytes')
  if (maxReplyBytes !== undefined) limits.maxReplyBytes = maxReplyBytes
  const idle = stringFlag(flags, 'idle-timeout')
  if (idle !== undefined) {
    const seconds = Number(idle)
    if (idle.trim() === '' || !Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400)
      throw new UsageError(`flag --idle-timeout expects seconds > 0, at most 86400, got "${idle}"`)
    limits.idleTimeout = Math.max(1, Math.round(seconds * 1000))
  }
  const streams = countFlag(flags, 'max-streams-per-peer')
  if (streams !== undefined) limits.maxStreamsPerPeer = streams
  const buffered = sizeFlag(flags, 'max-buffered')
  if (buffered !== undefined) limits.maxBufferedBytes = buffered
  const perPeer = sizeFlag(flags, 'max-buffered-per-peer')
  if (perPeer !== undefined) limits.maxBufferedBytesPerPeer = perPeer
  const rate = stringFlag(flags, 'rate-limit')
  const burst = countFlag(flags, 'rate-burst')
  if (rate === 'off') {
    if (burst !== undefined)
      throw new UsageError('flag --rate-burst needs a rate limit, not --rate-limit off')
    limits.rateLimit = false
  } else if (rate !== undefined || burst !== undefined) {
    const messagesPerSecond = rate === undefined ? undefined : Number(rate)
    if (
      messagesPerSecond !== undefined &&
      !(Number.isFinite(messagesPerSecond) && messagesPerSecond > 0)
    )
      throw new UsageError(
        `flag --rate-limit expects messages per second > 0 or off, got "${rate}"`
      )
    limits.rateLimit = {
      ...(messagesPerSecond === undefined ? {} : { messagesPerSecond }),
      ...(burst === undefined ? {} : { burst })
    }
  }
  return limits
}

/** Receiver option names as the flags that set them, for a receiver's `TypeError` about how they combine. */
const FLAG_OF_OPTION: Array<[RegExp, string]> = [
  [/\bmaxBufferedBytesPerPeer\b/g, '--max-buffered-per-peer'],
  [/\bmaxBufferedBytes\b/g, '--max-buffered'],
  [/\bmaxMessageBytes\b/g, '--max-message-bytes'],
  [/\bmaxReplyBytes\b/g, '--max-reply-bytes']
]

/** A receiver's `TypeError` about the limits, in the words of the flags. */
export function limitsError(error: TypeError): UsageError {
  let message = error.message
  for (const [option, flag] of FLAG_OF_OPTION) message = message.replace(option, flag)
  return new UsageError(message)
}

/** What a limit (rather than the peer or the application) refused or cut off. */
const LIMIT_REASONS = [
  'too-large',
  'id-too-long',
  'idle',
  'too-many-streams',
  'too-many-frames',
  'ack-backlog',
  'over-budget',
  'rate-limited'
]

/**
 * The limits a receiver enforced, by reason, over both modes: raw streams
 * reset, envelope streams cut off, envelope messages answered rejected or
 * try-later. `idle 1, over-budget 2`; empty when none was hit.
 */
export function limitsHit(stats: ReceiverStats): string {
  const counts = new Map<string, number>()
  const add = (table: Partial<Record<string, number>>): void => {
    for (const [reason, count] of Object.entries(table)) {
      if (LIMIT_REASONS.includes(reason) && count !== undefined && count > 0)
        counts.set(reason, (counts.get(reason) ?? 0) + count)
    }
  }
  for (const table of [stats.raw.streamErrors, stats.streamErrors, stats.rejected, stats.tryLater])
    add(table)
  return LIMIT_REASONS.filter((reason) => counts.has(reason))
    .map((reason) => `${reason} ${counts.get(reason)}`)
    .join(', ')
}

import { describeError, type Entry, type Logger, Outbox, type Policy } from '@dntkit/core'
import type { Libp2p } from '@libp2p/interface'
import { type CliIo, note } from './command.js'
import {
  ATTEMPT_TIMEOUT,
  DEFAULT_MODE,
  MAX_PAYLOAD_BYTES,
  MODE_META_KEY,
  STOP_TIMEOUT
} from './constants.js'
import type { Identity } from './key-file.js'
import type { DeliveryMode } from './mode-flag.js'
import { createNode } from './node.js'
import { createStore } from './open-store.js'
import { showProgress } from './progress.js'
import { quietly } from './quietly.js'
import type { ReplyOutput } from './reply-output.js'
import { ReplyTaker } from './reply-taker.js'
import { openError, warnings } from './store-session.js'
import type { StoreLocation } from './store-uri.js'

/** How an entry left the queue during this run. */
export interface Outcome {
  status: 'delivered' | 'abandoned' | 'rejected' | 'expired'
  entry: Entry
  error?: string
  /** The receiver's reply, when it gave one. */
  reply?: Uint8Array
}

export interface DeliveryInit {
  identity: Identity
  location: StoreLocation
  policy: Policy
  /** Forces one mode; otherwise each entry's recorded mode, else raw. */
  mode: DeliveryMode | undefined
  /** Addresses to listen on, so a peer can connect to us (and be flushed at once when it does). */
  listen: string[]
  io: CliIo
  log: Logger
  /**
   * Where the replies the outbox keeps are reported (then taken from the
   * store), and which message ids' replies this command reports.
   */
  replies?: { output: ReplyOutput; wants(id: string): boolean }
}

/** An outbox on a libp2p node and a store, with what happened to each entry. */
export interface DeliverySession {
  outbox: Outbox
  outcomes: Map<string, Outcome>
  failedAttempts(): number
  /**
   * One attempt now for what is queued, unless a peer already failed during
   * this run: resolves when that round ended (all delivered, or a failure).
   */
  settle(): Promise<void>
  /** With `--wait`: until nothing is queued (true) or the time is up or a signal (false). */
  drain(milliseconds: number): Promise<boolean>
  /** Entries still queued that do not survive the exit (memory-only level or `memory:` store). */
  volatile(): Entry[]
  /** Reports and takes the replies the store holds now (from earlier runs). */
  takeWaitingReplies(): void
  /** Why reporting replies stopped (they stay in the store), if it did. */
  replyFailure(): Error | undefined
  /** Takes what was reported from the store, then stops the outbox, the transport and the node. */
  stop(): Promise<void>
}

/** Resolves when `signal` aborts (SIGINT / SIGTERM in the binary); at once if it already did. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), { once: true })
  })
}

/**
 * Starts a node (dial only), the libp2p transport and an outbox on the store:
 * the store is opened (and what it holds scheduled) only after every input was
 * checked by the caller. An open failure (corrupt, wrong key, locked) stops
 * the node again and is reported against the store URI.
 */
export async function startDelivery(init: DeliveryInit): Promise<DeliverySession> {
  const { location, policy } = init
  const [{ libp2pTransport }, node] = await Promise.all([
    import('@dntkit/transport-libp2p'),
    createNode({ privateKey: init.identity.privateKey, listen: init.listen })
  ])
  if (init.listen.length > 0) {
    for (const address of node.getMultiaddrs()) note(init.io, `listening on ${address.toString()}`)
  }
  const chooseMode = (entry: Entry): DeliveryMode =>
    init.mode ?? (entry.meta?.[MODE_META_KEY] === 'envelope' ? 'envelope' : DEFAULT_MODE)
  const transport = libp2pTransport(node, { mode: chooseMode })
  let outbox: Outbox
  try {
    const store = await createStore(location, init.identity.raw, warnings(init.io))
    outbox = new Outbox({
      transport,
      store,
      policy,
      attemptTimeout: ATTEMPT_TIMEOUT,
      stopTimeout: STOP_TIMEOUT,
      limits: { maxPayloadBytes: MAX_PAYLOAD_BYTES }
    })
    await outbox.start()
  } catch (error) {
    await quietly(() => transport.close())
    await quietly(() => node.stop())
    throw openError(location, '--store', error)
  }
  return session(outbox, node, transport, init)
}

function session(
  outbox: Outbox,
  node: Libp2p,
  transport: { close(): Promise<void> },
  init: DeliveryInit
): DeliverySession {
  const { io, log, policy, location } = init
  const outcomes = new Map<string, Outcome>()
  let failedAttempts = 0
  let firstFailure: () => void = () => {}
  const failed = new Promise<void>((resolve) => {
    firstFailure = resolve
  })
  const taker =
    init.replies === undefined
      ? undefined
      : new ReplyTaker(outbox, init.replies.output, init.replies.wants, log)
  outbox.addEventListener('delivered', (event) => {
    const { entry, reply } = event.detail
    const outcome: Outcome = { status: 'delivered', entry }
    if (reply !== undefined) outcome.reply = reply
    outcomes.set(entry.id, outcome)
    if (reply !== undefined) taker?.delivered(entry.id, reply)
  })
  outbox.addEventListener('abandoned', (event) => {
    const { entry, reason, error } = event.detail
    const outcome: Outcome = { status: reason === 'rejected' ? 'rejected' : 'abandoned', entry }
    if (error !== undefined) outcome.error = describeError(error)
    outcomes.set(entry.id, outcome)
  })
  outbox.addEventListener('expired', (event) => {
    outcomes.set(event.detail.entry.id, { status: 'expired', entry: event.detail.entry })
  })
  outbox.addEventListener('attempt-failed', (event) => {
    failedAttempts++
    log('attempt to %s failed: %s', event.detail.peer, describeError(event.detail.error))
    firstFailure()
  })
  outbox.addEventListener('store-error', (event) => {
    if (!event.detail.recovered)
      log.error('store write failed: %s', describeError(event.detail.error))
  })
  let stopped = false
  return {
    outbox,
    outcomes,
    failedAttempts: () => failedAttempts,
    async settle() {
      // a peer that failed during this run is down now; otherwise try it now, backoff or not
      if (failedAttempts > 0 || outbox.size === 0) return
      await Promise.race([outbox.flush(), failed, untilAborted(io.signal)])
    },
    async drain(milliseconds) {
      const deadline = Date.now() + milliseconds
      const hideProgress = showProgress(
        io,
        () => ({
          delivered: Array.from(outcomes.values()).filter(
            (outcome) => outcome.status === 'delivered'
          ).length,
          queued: outbox.size,
          failedAttempts
        }),
        deadline
      )
      let timer: ReturnType<typeof setTimeout> | undefined
      const timeUp = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, milliseconds)
      })
      try {
        await Promise.race([outbox.whenDrained(), timeUp, untilAborted(io.signal)])
      } finally {
        clearTimeout(timer)
        hideProgress()
      }
      return outbox.size === 0
    },
    volatile() {
      if (location.kind === 'memory') return outbox.entries()
      return outbox.entries().filter((entry) => policy.levels[entry.level]?.persist === false)
    },
    takeWaitingReplies() {
      taker?.takeWaiting()
    },
    replyFailure: () => taker?.failure,
    async stop() {
      if (stopped) return
      stopped = true
      try {
        await taker?.settled()
        await outbox.stop()
      } finally {
        await quietly(() => transport.close())
        await quietly(() => node.stop())
      }
    }
  }
}

export { MODE_META_KEY } from './constants.js'

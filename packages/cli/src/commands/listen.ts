import type { ReceiverStats } from '@dntkit/transport-libp2p'
import { allowList } from '../allow-list.js'
import { listFlag, requiredFlag, stringFlag } from '../arguments.js'
import { type Command, note } from '../command.js'
import { EXIT_OK, MAX_REPLY_BYTES } from '../constants.js'
import { UsageError } from '../errors.js'
import { readKeyFile } from '../key-file.js'
import { modeFlag } from '../mode-flag.js'
import { createNode, startNode } from '../node.js'
import { quietly } from '../quietly.js'
import { type ReceivedMessage, type ReceivedOutput, receivedOutput } from '../received-output.js'
import { limitsError, limitsHit, receiverLimits } from '../receiver-limits.js'
import { replySource } from '../reply-source.js'
import { parseMultiaddr } from '../target.js'
import { listenSpec } from './listen-spec.js'

export const listenCommand: Command = {
  spec: listenSpec,
  async run({ io, flags, log }) {
    const identity = readKeyFile(requiredFlag(flags, 'key'))
    const listen = listFlag(flags, 'listen').map((address) =>
      parseMultiaddr(address, '--listen').toString()
    )
    const protocols = Array.from(new Set(listFlag(flags, 'protocol')))
    if (protocols.some((protocol) => protocol.length === 0))
      throw new UsageError('flag --protocol needs a non-empty id')
    const mode = modeFlag(flags)
    const allow = allowList(flags)
    const limits = receiverLimits(flags)
    const replyWith = stringFlag(flags, 'reply')
    const reply = replySource(replyWith, limits.maxReplyBytes ?? MAX_REPLY_BYTES)
    const output = receivedOutput(io, stringFlag(flags, 'jsonl'))
    let received = 0
    const counted: ReceivedOutput = {
      write(message) {
        output.write(message)
        received++
      },
      close: () => output.close()
    }
    const nodeInit = { privateKey: identity.privateKey, listen, start: false }
    const node = await createNode(nodeInit).catch((error: unknown) => {
      output.close()
      throw error
    })
    let stopReceiving: (() => Promise<void>) | undefined
    let receiverStats: (() => ReceiverStats) | undefined
    let refused = 0
    const onRefused = (from: string, protocol: string): void => {
      refused++
      log('refused %s from %s: not on the allowlist', protocol, from)
    }
    try {
      const { handleMessages, TryLaterError } = await import('@dntkit/transport-libp2p')
      const record = (message: ReceivedMessage): void => {
        try {
          counted.write(message)
        } catch (error) {
          throw new TryLaterError(`cannot record the message: ${(error as Error).message}`)
        }
      }
      // the reply first: a command that fails leaves nothing recorded, and the sender retries
      const answer = async (message: ReceivedMessage): Promise<Uint8Array | undefined> => {
        const bytes = reply === undefined ? undefined : await reply(message)
        record(message)
        return bytes
      }
      const table = <T>(handler: T): Record<string, T> =>
        Object.fromEntries(protocols.map((protocol) => [protocol, handler]))
      const receiving = await handleMessages(node, {
        ...(mode === 'raw'
          ? {}
          : {
              handlers: table(
                (message: { id: string; protocol: string; payload: Uint8Array }, from: string) =>
                  answer({
                    id: message.id,
                    from,
                    protocol: message.protocol,
                    payload: message.payload,
                    receivedAt: new Date()
                  })
              )
            }),
        ...(mode === 'envelope'
          ? {}
          : {
              rawHandlers: table(
                (message: { protocol: string; payload: Uint8Array }, from: string) =>
                  answer({
                    from,
                    protocol: message.protocol,
                    payload: message.payload,
                    receivedAt: new Date()
                  })
              )
            }),
        ...(allow === undefined ? {} : { allow }),
        ...limits
      }).catch((error: unknown) => {
        throw error instanceof TypeError ? limitsError(error) : error
      })
      stopReceiving = receiving
      receiverStats = () => receiving.stats()
      receiving.events.addEventListener('rejected', (event) => {
        if (event.detail.code === 'unauthorized')
          onRefused(event.detail.from, event.detail.protocol)
      })
      receiving.events.addEventListener('stream-error', (event) => {
        const { mode: streamMode, reason } = event.detail
        if (streamMode !== 'raw') return
        if (reason === 'unauthorized') onRefused(event.detail.from, event.detail.protocol)
        else
          log.error(
            'raw stream on %s from %s failed (%s): %s',
            event.detail.protocol,
            event.detail.from,
            reason,
            event.detail.error.message
          )
      })
      // handlers first, then listen: an early sender never meets a missing protocol (a failed attempt)
      await startNode(node, nodeInit)
      note(io, `peer id: ${identity.peerId}`)
      for (const address of node.getMultiaddrs()) note(io, `listening on ${address.toString()}`)
      note(io, `protocols: ${protocols.join(', ')} (${mode ?? 'raw and envelope'}); Ctrl-C stops`)
      if (replyWith !== undefined) note(io, `answering every message from ${replyWith}`)
      if (allow !== undefined) {
        const peers = allow.length === 1 ? '1 peer' : `${allow.length} peers`
        note(io, `accepting messages from ${peers} only`)
      }
      await new Promise<void>((resolve) => {
        if (io.signal.aborted) resolve()
        else io.signal.addEventListener('abort', () => resolve(), { once: true })
      })
    } finally {
      // the receiver first: new messages are answered try-later, running handlers finish and
      // their acks go out while the connections are still open (bounded by its stopTimeout);
      // then the node closes what is left
      await quietly(() => stopReceiving?.())
      await quietly(() => node.stop())
      counted.close()
    }
    const refusals = refused === 0 ? '' : `; refused ${refused} from peers not allowed`
    const hit = receiverStats === undefined ? '' : limitsHit(receiverStats())
    const limited = hit === '' ? '' : `; limits hit: ${hit}`
    note(
      io,
      `stopped after ${received} ${received === 1 ? 'message' : 'messages'}${refusals}${limited}`
    )
    return EXIT_OK
  }
}

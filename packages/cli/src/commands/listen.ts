import type { Connection, Stream, StreamHandler } from '@libp2p/interface'
import { allowList } from '../allow-list.js'
import { listFlag, requiredFlag, stringFlag } from '../arguments.js'
import { type Command, note } from '../command.js'
import { EXIT_OK, MAX_PAYLOAD_BYTES } from '../constants.js'
import { UsageError } from '../errors.js'
import { readKeyFile } from '../key-file.js'
import { MODE_FLAG, modeFlag } from '../mode-flag.js'
import { createNode, startNode } from '../node.js'
import { quietly } from '../quietly.js'
import { type ReceivedOutput, receivedOutput } from '../received-output.js'
import { KEY_FLAG } from '../store-flags.js'
import { parseMultiaddr } from '../target.js'

/** Reads a raw stream to its end (at most `limit` bytes). */
async function readAll(stream: Stream, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of stream) {
    const bytes = chunk.subarray()
    size += bytes.byteLength
    if (size > limit) throw new Error(`message larger than ${limit} bytes`)
    chunks.push(bytes)
  }
  const payload = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    payload.set(chunk, offset)
    offset += chunk.byteLength
  }
  return payload
}

function rawHandler(protocol: string, output: ReceivedOutput, onError: (error: unknown) => void) {
  return async (stream: Stream, connection: Connection): Promise<void> => {
    try {
      const payload = await readAll(stream, MAX_PAYLOAD_BYTES)
      // a reset or a killed sender also ends the read loop: keep only what the sender closed cleanly
      if (
        stream.status !== 'open' ||
        stream.remoteWriteStatus !== 'closed' ||
        connection.status !== 'open'
      ) {
        throw new Error(`raw stream from ${connection.remotePeer} ended without a clean close`)
      }
      output.write({
        from: connection.remotePeer.toString(),
        protocol,
        payload,
        receivedAt: new Date()
      })
      // closing our side cleanly is what tells a raw sender the message arrived
      await stream.close()
    } catch (error) {
      stream.abort(error instanceof Error ? error : new Error(String(error)))
      onError(error)
    }
  }
}

export const listenCommand: Command = {
  spec: {
    name: 'listen',
    summary: 'receive messages and print them (JSONL with --jsonl) until SIGINT / SIGTERM',
    usage:
      '--key FILE --listen MULTIADDR --protocol ID [--protocol ID ...] [--jsonl OUT] [--mode raw|envelope] [--allow PEER ...] [--allow-file FILE]',
    flags: {
      key: KEY_FLAG,
      listen: {
        type: 'string',
        value: 'MULTIADDR',
        required: true,
        multiple: true,
        description: 'address to listen on, e.g. /ip4/127.0.0.1/tcp/4001 (tcp/0: any free port)'
      },
      protocol: {
        type: 'string',
        value: 'ID',
        required: true,
        multiple: true,
        description: 'protocol id to accept messages for'
      },
      jsonl: {
        type: 'string',
        value: 'OUT',
        description:
          'append one JSON object per message to OUT (fsynced before the ack); - is stdout'
      },
      mode: {
        ...MODE_FLAG,
        description: 'accept only raw streams or only envelopes (default: both)'
      },
      allow: {
        type: 'string',
        value: 'PEER',
        multiple: true,
        description: 'accept messages only from this peer id (repeatable; default: anyone)'
      },
      'allow-file': {
        type: 'string',
        value: 'FILE',
        description: 'accept messages only from the peer ids in FILE (one a line, # comments)'
      }
    },
    details:
      'Status lines go to stderr: the peer id, then "listening on MULTIADDR/p2p/PEER" per address.\n' +
      'JSONL records: {"id"?, "from", "protocol", "data"?, "base64", "receivedAt"}; "id" in envelope\n' +
      'mode, "data" when the payload is UTF-8, "receivedAt" an ISO 8601 time. Envelope mode drops\n' +
      'duplicates of a message id already received (in memory, for this run).\n' +
      'With --allow / --allow-file, any other peer (as noise authenticated it) is refused: in\n' +
      'envelope mode its message is answered rejected / unauthorized from its header, in raw mode\n' +
      'its stream is reset; nothing of it is written.'
  },
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
    let stopEnvelopes: (() => Promise<void>) | undefined
    let refused = 0
    const onRefused = (from: string, protocol: string): void => {
      refused++
      log('refused %s from %s: not on the allowlist', protocol, from)
    }
    try {
      if (mode !== 'envelope') {
        const guard =
          allow === undefined
            ? undefined
            : (await import('@dntkit/transport-libp2p')).authorizedStreamHandler
        for (const protocol of protocols) {
          let handler: StreamHandler = rawHandler(protocol, counted, (error) =>
            log.error('raw stream on %s failed: %s', protocol, error)
          )
          if (guard !== undefined && allow !== undefined) {
            handler = guard(handler, {
              allow,
              onRefused: (detail) => onRefused(detail.from, detail.protocol)
            })
          }
          await node.handle(protocol, handler)
        }
      }
      if (mode !== 'raw') {
        const { handleEnvelopes, TryLaterError } = await import('@dntkit/transport-libp2p')
        const handlers = Object.fromEntries(
          protocols.map((protocol) => [
            protocol,
            (message: { id: string; protocol: string; payload: Uint8Array }, from: string) => {
              try {
                counted.write({
                  id: message.id,
                  from,
                  protocol: message.protocol,
                  payload: message.payload,
                  receivedAt: new Date()
                })
              } catch (error) {
                throw new TryLaterError(`cannot record the message: ${(error as Error).message}`)
              }
            }
          ])
        )
        const envelopes = await handleEnvelopes(node, {
          handlers,
          ...(allow === undefined ? {} : { allow })
        })
        envelopes.events.addEventListener('rejected', (event) => {
          if (event.detail.code === 'unauthorized')
            onRefused(event.detail.from, event.detail.protocol)
        })
        stopEnvelopes = envelopes
      }
      // handlers first, then listen: an early sender never meets a missing protocol
      await startNode(node, nodeInit)
      note(io, `peer id: ${identity.peerId}`)
      for (const address of node.getMultiaddrs()) note(io, `listening on ${address.toString()}`)
      note(io, `protocols: ${protocols.join(', ')} (${mode ?? 'raw and envelope'}); Ctrl-C stops`)
      if (allow !== undefined) {
        const peers = allow.length === 1 ? '1 peer' : `${allow.length} peers`
        note(io, `accepting messages from ${peers} only`)
      }
      await new Promise<void>((resolve) => {
        if (io.signal.aborted) resolve()
        else io.signal.addEventListener('abort', () => resolve(), { once: true })
      })
    } finally {
      // stop listening before the handlers go, for the same reason
      await quietly(() => node.stop())
      await quietly(() => stopEnvelopes?.())
      counted.close()
    }
    const refusals = refused === 0 ? '' : `; refused ${refused} from peers not allowed`
    note(io, `stopped after ${received} ${received === 1 ? 'message' : 'messages'}${refusals}`)
    return EXIT_OK
  }
}

import type { Meta } from '@dntkit/core'
import { peerText, rejectUnknownOptions } from '@dntkit/core/plugin'
import type { Connection, PeerId, Stream, StreamHandler } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'

/**
 * Decides whether a peer may deliver to an inner protocol. `peerId` is the
 * remote peer noise authenticated on the connection, never a value the
 * sender wrote; `meta` is the message's meta (undefined in raw mode).
 */
export type AuthorizeHook = (
  peerId: string,
  protocol: string,
  meta: Meta | undefined
) => boolean | Promise<boolean>

/** Who may deliver: an allowlist of peer ids and/or a hook; both must agree when both are given. */
export interface AuthorizationInit {
  /** Peers allowed to deliver, as `PeerId`s or strings; any other is refused (an empty list refuses everyone). */
  allow?: Iterable<PeerId | string>
  authorize?: AuthorizeHook
}

/** The allowlist as canonical peer id strings; a `TypeError` names the first entry that is not a peer id. */
export function allowSet(allow: Iterable<PeerId | string> | undefined): Set<string> | undefined {
  if (allow === undefined) return undefined
  if (allow === null || typeof (allow as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new TypeError('allow must be an array of peer ids (PeerId objects or strings)')
  }
  const peers = new Set<string>()
  let index = 0
  for (const peer of allow) {
    try {
      const text = peerText(peer, `allow[${index}]`)
      peers.add(peerIdFromString(text).toString())
    } catch (error) {
      throw new TypeError(
        `allow[${index}] "${String(peer)}" is not a valid peer id (${(error as Error).message})`
      )
    }
    index++
  }
  return peers
}

/** Checks an `authorize` option. */
export function authorizeHook(authorize: unknown): AuthorizeHook | undefined {
  if (authorize === undefined) return undefined
  if (typeof authorize !== 'function')
    throw new TypeError('authorize must be a function (peerId, protocol, meta) => boolean')
  return authorize as AuthorizeHook
}

/** Options of `authorizedStreamHandler()`. */
export interface AuthorizedStreamHandlerInit extends AuthorizationInit {
  /** Called for every stream refused (after it was reset). */
  onRefused?(detail: { from: string; protocol: string; reason: string }): void
}

/**
 * Guards a raw-mode stream handler (any `node.handle()` handler): a stream
 * from a peer that is not on `allow`, or that `authorize(peerId, protocol,
 * undefined)` refuses, is reset before the handler sees it or any of its
 * bytes are read. A raw sender sees a reset stream (no reason travels in raw
 * mode); dntkit's transport retries it as an unreachable peer would be.
 * Unknown option names are a `TypeError` naming them.
 */
export function authorizedStreamHandler(
  handler: StreamHandler,
  init: AuthorizedStreamHandlerInit
): StreamHandler {
  if (init == null || typeof init !== 'object')
    throw new TypeError('authorizedStreamHandler() options must be an object')
  rejectUnknownOptions(init, ['allow', 'authorize', 'onRefused'], 'authorizedStreamHandler()')
  if (init.onRefused !== undefined && typeof init.onRefused !== 'function') {
    throw new TypeError('authorizedStreamHandler() option onRefused must be a function')
  }
  const allow = allowSet(init.allow)
  const authorize = authorizeHook(init.authorize)
  const refuse = (stream: Stream, from: string, reason: string): void => {
    stream.abort(new Error(`unauthorized: ${reason}`))
    init.onRefused?.({ from, protocol: stream.protocol, reason })
  }
  return async (stream: Stream, connection: Connection) => {
    const from = connection.remotePeer.toString()
    if (allow !== undefined && !allow.has(from)) {
      refuse(stream, from, `peer ${from} is not on the allowlist`)
      return
    }
    if (authorize !== undefined) {
      let allowed: boolean
      try {
        allowed = (await authorize(from, stream.protocol, undefined)) === true
      } catch (error) {
        refuse(stream, from, `authorize failed: ${(error as Error)?.message ?? String(error)}`)
        return
      }
      if (!allowed) {
        refuse(stream, from, `authorize refused ${from} on ${stream.protocol}`)
        return
      }
    }
    await handler(stream, connection)
  }
}

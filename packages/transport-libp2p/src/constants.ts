/** Every default of this package, in one place. */

/** The protocol id of envelope mode. */
export const ENVELOPE_PROTOCOL = '/dntkit/envelope/1.0.0'

/** Delivery mode of `libp2pTransport()` when none is given: `raw` works with any existing protocol handler. */
export const DEFAULT_MODE = 'raw'

/**
 * Delivery mode of the `dnt()` service when none is given: `envelope`, whose
 * acks and receiver-side dedupe (`dntReceiver()`) give exactly-once
 * processing. `raw` (the Go-compatible wire) is one option away.
 */
export const SERVICE_DEFAULT_MODE = 'envelope'

/** Point of success of a raw delivery when none is given. */
export const DEFAULT_RAW_SUCCESS = 'remote-closed'

/** Largest payload a receiver accepts (4 MiB). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024

/** Largest frame header (type, sequence, id, protocol, meta) a receiver accepts. */
export const MAX_HEADER_BYTES = 64 * 1024

/** Largest ack body either side accepts, without its reply. */
export const MAX_ACK_BYTES = 4 * 1024

/** Longest reason string an ack carries (longer ones are cut). */
export const MAX_REASON_BYTES = 1024

/** Longest code an ack carries (longer ones are cut): a handler's refusal code included. */
export const MAX_CODE_BYTES = 64

/**
 * Largest reply the wire carries (8 MiB): the most a sender's or a
 * receiver's `maxReplyBytes` may be set to.
 */
export const WIRE_MAX_REPLY_BYTES = 8 * 1024 * 1024

/**
 * Largest reply a sender accepts by default (1 MiB; envelope acks and raw
 * streams). An envelope ack with a larger one resets the stream (its frames
 * are retried); a larger raw reply fails its message.
 */
export const SENDER_MAX_REPLY_BYTES = 1024 * 1024

/**
 * Largest reply a receiver's handler may return by default (64 KiB); a
 * larger one is answered `rejected` / `reply-too-large` (envelope) or
 * resets the stream (raw).
 */
export const RECEIVER_MAX_REPLY_BYTES = 64 * 1024

/**
 * Wire limits of envelope mode: a sender never has more unacknowledged frames
 * or bytes on one stream than this (one frame of any size is always allowed),
 * and a receiver resets a stream that exceeds them.
 */
export const WIRE_MAX_UNACKED_FRAMES = 1024
export const WIRE_MAX_UNACKED_BYTES = 8 * 1024 * 1024

/** Frames a sender keeps unacknowledged on one stream, by default. */
export const MAX_FRAMES_IN_FLIGHT = 256

/** Bytes a sender keeps unacknowledged on one stream, by default. */
export const MAX_BYTES_IN_FLIGHT = 4 * 1024 * 1024

/** How long a sender keeps an idle envelope stream open for the next message (ms). */
export const STREAM_LINGER = 2_000

/**
 * A receiver cuts off a stream that brings no complete frame (envelope) or
 * does not end (raw: the whole message) for this long (ms).
 */
export const IDLE_TIMEOUT = 20_000

/**
 * How long a receiver's stop lets running handlers finish and answers go out
 * (ms); then every stream still open is reset.
 */
export const RECEIVER_STOP_TIMEOUT = 5_000

/** Dedupe window of a receiver: ids remembered, at most, over all peers. */
export const DEDUPE_MAX_ENTRIES = 100_000

/**
 * Dedupe window of a receiver: ids remembered per sending peer, at most. A
 * peer over it forgets its own oldest ids, never another peer's.
 */
export const DEDUPE_MAX_ENTRIES_PER_PEER = 10_000

/**
 * Dedupe window of a receiver: bytes remembered per sending peer, at most:
 * the UTF-8 bytes of its message ids plus its cached replies.
 */
export const DEDUPE_MAX_BYTES_PER_PEER = 1024 * 1024

/** Dedupe window of a receiver: bytes (ids plus cached replies) remembered over all peers, at most. */
export const DEDUPE_MAX_BYTES = 64 * 1024 * 1024

/** Dedupe window of a receiver: how long an id is remembered (ms, one day). */
export const DEDUPE_MAX_AGE = 24 * 60 * 60 * 1000

/**
 * ms an id of the dedupe window is safe from other peers' traffic (10 min):
 * longer than the default preset's longest backoff (5 min), so the retry that
 * follows a lost ack finds its id still there whatever other peers send.
 */
export const DEDUPE_MIN_AGE = 10 * 60 * 1000

/**
 * Ids per peer `DEDUPE_MIN_AGE` protects: its most recent 256, the frames a
 * sender may have in flight on one stream (all retried after a lost stream).
 */
export const DEDUPE_PROTECTED_PER_PEER = 256

/** Level name of the records a receiver keeps in its dedupe store. */
export const DEDUPE_LEVEL = 'dedupe'

/** Peer-store tag on peers that have queued entries; the `keep-alive` prefix makes libp2p re-dial them. */
export const QUEUED_PEER_TAG = 'keep-alive-dntkit'

/** Value of that tag (connection pruning keeps higher values). */
export const QUEUED_PEER_TAG_VALUE = 50

/** Per-peer concurrency the `dnt()` service gives its outbox in envelope mode. */
export const ENVELOPE_PER_PEER_CONCURRENCY = 64

/** Failed dials in a row to a peer after which it is looked up through libp2p's peer routing. */
export const FIND_PEER_AFTER = 5

/** A peer is looked up at most once per this long (ms, five minutes). */
export const FIND_PEER_INTERVAL = 5 * 60_000

/** A peer lookup that has not answered after this long (ms) is aborted and counts as failed. */
export const FIND_PEER_TIMEOUT = 30_000

/** Peers whose failed dials and last lookup the transport remembers (then the idle ones are forgotten). */
export const FIND_PEER_TRACKED_PEERS = 10_000

/** Cap on inbound/outbound envelope streams per connection. */
export const MAX_ENVELOPE_STREAMS = 32

/**
 * Longest message id a receiver accepts (UTF-8 bytes): the one rule of
 * `@dntkit/core` (`send()` refuses longer ids), defined there. Ids are kept in
 * the dedupe window, so this bounds its memory: at most `DEDUPE_MAX_ENTRIES`
 * keys of (sender peer id + `/` + id).
 */
export { MAX_ID_BYTES } from '@dntkit/core/plugin'

/**
 * Inbound streams one remote peer may have open at once, over all its
 * connections: envelope streams, and raw streams, each counted apart.
 */
export const MAX_STREAMS_PER_PEER = 8

/** Cap on inbound raw streams per connection and protocol (libp2p's own limit). */
export const MAX_RAW_STREAMS = 32

/**
 * Bytes a receiver buffers at once over all peers and both modes: partial
 * frames and raw messages being read, payloads waiting for their handler. A
 * frame or raw stream that would pass it is refused instead of buffered.
 */
export const MAX_BUFFERED_BYTES = 64 * 1024 * 1024

/**
 * Bytes one remote peer may have buffered at once, over all its streams (a
 * quarter of the budget: a sender's 4 MiB window plus a 4 MiB frame fit twice).
 */
export const MAX_BUFFERED_BYTES_PER_PEER = 16 * 1024 * 1024

/**
 * Unacknowledged frames a receiver holds for one inbound stream before it
 * resets it (the wire limit: a conforming sender never exceeds it).
 */
export const RECEIVER_MAX_FRAMES_IN_FLIGHT = WIRE_MAX_UNACKED_FRAMES

/** Unacknowledged payload bytes a receiver holds for one inbound stream (plus one frame). */
export const RECEIVER_MAX_BYTES_IN_FLIGHT = WIRE_MAX_UNACKED_BYTES

/**
 * Per-peer rate limit of a receiver (token bucket): messages per second,
 * sustained, over both modes. Over it, an envelope message is answered
 * `try-later` / `rate-limited` from its header, without reading its payload;
 * a raw stream is reset. A quarter of what one `dnt listen` handles on a
 * 2-core machine (about 4,300 messages/s), so one peer cannot take it all.
 */
export const RATE_LIMIT_MESSAGES_PER_SECOND = 1_000

/**
 * Per-peer rate limit of a receiver: bucket size, the burst a peer may send
 * at once. A backlog of 50,000 messages after an outage drains at full speed
 * (the benchmark drains 2 x 20,000 from one peer back to back); a flood at
 * the listener's 4,300/s is held to the sustained rate after about 15 s.
 */
export const RATE_LIMIT_BURST = 50_000

/** Peers whose rate-limit state a receiver keeps before it forgets the idle ones. */
export const RATE_LIMIT_TRACKED_PEERS = 10_000

/** Logger namespaces. */
export const TRANSPORT_LOG = 'dntkit:transport-libp2p'
export const RECEIVER_LOG = 'dntkit:transport-libp2p:receiver'
export const SERVICE_LOG = 'dntkit:transport-libp2p:service'

/**
 * Acks a receiver lets wait for a peer that does not read them (bytes, plus
 * one ack with the largest reply); over it the stream is reset. A conforming
 * sender reads acks as they come.
 */
export const ACK_BACKLOG_BYTES = 2 * 1024 * 1024

/**
 * Acks (with their replies) waiting to be sent on one stream above which its
 * next handler waits for the peer to read them (bytes).
 */
export const ACK_HIGH_WATER_BYTES = 512 * 1024

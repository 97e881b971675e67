/** Every size, duration and path of the chaos suite, in one place. */
import { fileURLToPath } from 'node:url'

/** `CHAOS_FULL=1`: the longer and larger runs (see README); default: what fits in ~2 minutes. */
export const FULL = process.env.CHAOS_FULL === '1'

/** The built `dnt` binary, run as a user runs it. */
export const DNT_BIN = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url))

/** The chaos package's folder (actors run from it, so `--import tsx` resolves). */
export const CHAOS_ROOT = fileURLToPath(new URL('../', import.meta.url))

/** Folder of the actor scripts (child processes, run with `node --import tsx`). */
export const ACTORS = fileURLToPath(new URL('./actors/', import.meta.url))

/** Inner protocol every chaos message uses. */
export const PROTOCOL = '/chaos/order/1.0.0'

/** Kill and restart: messages queued while the receivers are down (half raw, half envelope). */
export const KILL_MESSAGES = FULL ? 6_000 : 2_000
/** Kill and restart: SIGKILLs of `dnt flush --wait`, exactly (one per run). */
export const KILL_COUNT = FULL ? 60 : 20
/** Kill and restart: restarts of each receiver, exactly (needs 2 x this many drain kills). */
export const RECEIVER_RESTARTS = FULL ? 12 : 4
/** Kill and restart: every this many runs, the kill comes as soon as the outbox started; the others are drain kills. */
export const KILL_DRAIN_EVERY = 3
/** Kill and restart: a drain kill comes after this many further deliveries (uniform). */
export const KILL_AFTER_DELIVERIES = { min: 1, max: 25 }
/** Kill and restart: the receivers' handler delay (ms) so a drain spans many kills. */
export const RECEIVER_DELAY = 1

/**
 * Flapping peer: up and down periods (ms), senders, send rate per sender
 * (msg/s). Raw mode delivers one message per stream, one at a time (FIFO),
 * and each 200 ms window first has to reconnect (TCP, Noise, Yamux): raw
 * senders send 5 msg/s, envelope senders (pipelined) 20.
 */
export const FLAP_UP = 200
export const FLAP_DOWN = 300
export const FLAP_SENDERS = 10
/** Flapping peer: processes the senders are spread over. */
export const FLAP_PROCESSES = 2
/**
 * Flapping peer: the senders stream until the network to the receiver was cut and back
 * this many times (counted, so a slow machine runs longer instead of testing less).
 */
export const FLAP_CYCLES = FULL ? 120 : 40
export const FLAP_RATE = { raw: 5, envelope: 20 } as const

/** Many peers: receivers, how many are down at any moment, messages per peer. */
export const FARM_PEERS = 50
export const FARM_DOWN = 10
export const FARM_MESSAGES_PER_PEER = 1_000

/** Disk full: size of the tmpfs the store lives on. */
export const DISK_BYTES = 4 * 1024 * 1024

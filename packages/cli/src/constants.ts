/** Every default and fixed value of the `dnt` command, in one place. */

/** Done (for `--wait`: everything delivered). */
export const EXIT_OK = 0
/** Any failure that is not the caller's input: store corrupt, wrong key, locked, network. */
export const EXIT_FAILURE = 1
/** Usage or input error: bad flag, multiaddr, peer id, key, JSON line. */
export const EXIT_USAGE = 2
/** Messages remain queued (in the store when their level persists). */
export const EXIT_QUEUED = 3

/** Environment variable that adds stack traces to error output. */
export const DEBUG_VARIABLE = 'DNT_DEBUG'

/** Largest payload accepted (the outbox's and the receiver's default). */
export const MAX_PAYLOAD_BYTES = 4 * 1024 * 1024

/** Delivery mode when `--mode` is not given: the transport's default, works with any handler. */
export const DEFAULT_MODE: 'raw' | 'envelope' = 'raw'

/** Milliseconds a `dnt listen --reply exec:COMMAND` may run per message before it is killed (a handler failure). */
export const REPLY_COMMAND_TIMEOUT = 10_000

/** Characters of a reply command's stderr kept to name why it failed. */
export const REPLY_COMMAND_STDERR_BYTES = 4_096

/** Largest reply `dnt listen` answers with by default (the receiver's default). */
export const MAX_REPLY_BYTES = 64 * 1024

/** Milliseconds one delivery attempt may take before it counts as failed. */
export const ATTEMPT_TIMEOUT = 10_000

/** Milliseconds `stop()` lets in-flight deliveries settle before aborting them. */
export const STOP_TIMEOUT = 2_000

/**
 * Milliseconds after SIGINT / SIGTERM within which the command must have
 * stopped; past it the process exits anyway (1). Every stop is bounded well
 * below it (the receiver's 5 s, the outbox's 2 + 2 s, libp2p's 1 s per
 * connection): reaching it means something hung.
 */
export const STOP_DEADLINE = 20_000

/** Largest `--wait`, in seconds (a day); longer waits belong to a service, not a command. */
export const MAX_WAIT_SECONDS = 24 * 60 * 60

/** Milliseconds between two redraws of the progress line on a TTY. */
export const PROGRESS_INTERVAL = 250

/** Longest `last error` shown in a table cell. */
export const TABLE_ERROR_WIDTH = 60

/** Logger namespace of the command (`DEBUG=dntkit:cli`). */
export const LOGGER_NAME = 'dntkit:cli'

/** Fields a line of a `--jsonl` input file may have. */
export const JSONL_INPUT_FIELDS = ['data', 'base64', 'id', 'protocol', 'level'] as const

/** File mode of a key written by `dnt keygen`. */
export const KEY_FILE_MODE = 0o600

/** Mode of a store directory the command creates (`level:DIR`; the file store does the same). */
export const STORE_DIRECTORY_MODE = 0o700

/**
 * File mode creation mask of the `dnt` process: everything it creates (keys,
 * stores, LevelDB's own files, JSONL output) is readable by its owner only.
 */
export const PROCESS_UMASK = 0o077

/**
 * Key of `Entry.meta` where `dnt send --mode envelope` records the mode, so a
 * later `dnt flush` (another process) delivers the entry the same way.
 */
export const MODE_META_KEY = 'dnt-mode'

/**
 * Every failure dntkit reports has its own small class with a fixed `name` and
 * a stable `code`. Codes never change between versions; messages may. Test
 * with `err.code`, `err.name` or the static `isInstance()`, which also works
 * for errors that crossed a realm or a duplicated package copy.
 */
/** Where an error keeps the codes of its class and of every class it extends. */
const CODES = Symbol.for('@dntkit/core/error-codes')

/**
 * The base of every dntkit error: a fixed `name` per class and a stable
 * `code` that never changes between versions (messages may).
 */
export class DntError extends Error {
  static readonly code: string = 'DNT_ERROR'
  readonly code: string

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = (new.target as typeof DntError).code
    const codes: string[] = []
    for (
      let type = new.target as typeof DntError | undefined;
      type !== undefined && typeof type.code === 'string';
      type = Object.getPrototypeOf(type) as typeof DntError | undefined
    ) {
      if (!codes.includes(type.code)) codes.push(type.code)
    }
    Object.defineProperty(this, CODES, { value: codes, enumerable: false })
  }

  /**
   * True when `value` is an error of this class or of a subclass of it, by
   * its code (own or inherited): this also holds for errors that crossed a
   * realm or come from a duplicated copy of this package.
   */
  static isInstance<T extends typeof DntError>(this: T, value: unknown): value is InstanceType<T> {
    if (value == null || typeof value !== 'object') return false
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass the check is called on
    const expected = this.code
    if ((value as { code?: unknown }).code === expected) return true
    const codes = (value as { [CODES]?: unknown })[CODES]
    return Array.isArray(codes) && codes.includes(expected)
  }
}

/**
 * The peer could not be reached at all (no connection): the entry stays queued
 * and is retried after the peer's backoff. Counts one attempt for every entry
 * queued to that peer, as each of them would have dialled in vain.
 */
export class PeerUnreachableError extends DntError {
  static override readonly code: string = 'DNT_PEER_UNREACHABLE'
  override readonly name: string = 'PeerUnreachableError'
}

/**
 * The peer was reached but this one message did not get through (the stream
 * was reset mid-message, the protocol has no handler yet, the receiver asked to
 * try later): retried after the peer's backoff, counted against this message only.
 */
export class DeliveryFailedError extends DntError {
  static override readonly code: string = 'DNT_DELIVERY_FAILED'
  override readonly name: string = 'DeliveryFailedError'
  /** A short machine-readable cause, e.g. `unsupported-protocol`, `reset`, `try-later`. */
  readonly reason?: string

  constructor(message: string, options?: { cause?: unknown; reason?: string }) {
    super(message, options)
    if (options?.reason != null) this.reason = options.reason
  }
}

/**
 * The transport can never deliver this message as configured (the connection
 * gater denies the dial, no transport can dial any known address): retrying
 * cannot help, so the entry is not retried; it goes to the dead letters when
 * its level keeps them, with this error as its `lastError`.
 */
export class UndeliverableError extends DntError {
  static override readonly code: string = 'DNT_UNDELIVERABLE'
  override readonly name: string = 'UndeliverableError'
  /** A short machine-readable cause, e.g. `dial-denied`, `no-transport`. */
  readonly reason?: string

  constructor(message: string, options?: { cause?: unknown; reason?: string }) {
    super(message, options)
    if (options?.reason != null) this.reason = options.reason
  }
}

/**
 * The receiving application refused the message for good (its handler refused
 * it, or the sender is not authorized): the one failure a critical message is
 * not retried after. It goes to the dead letters when its level keeps them.
 */
export class DeliveryRejectedError extends DntError {
  static override readonly code: string = 'DNT_DELIVERY_REJECTED'
  override readonly name: string = 'DeliveryRejectedError'
  /** The receiver's reason code, when it gave one. */
  readonly reason?: string

  constructor(message: string, options?: { cause?: unknown; reason?: string }) {
    super(message, options)
    if (options?.reason != null) this.reason = options.reason
  }
}

/** Where a store's data is damaged and how much of it still reads; every field is optional. */
export interface StoreDamage {
  /** The damaged file, or the database (and sublevel) that holds the damaged value. */
  file?: string
  /** Byte offset of the damage in `file`. */
  offset?: number
  /** Index of the first record that does not read (record numbers count from 1 after the file's marker; element index for an array). */
  record?: number
  /** Key of the damaged value in a key-value store, e.g. `e:42`. */
  key?: string
  /** Records (or values) of the damaged file that authenticate before the damage. */
  readableBefore?: number
  /** Records (or values) that authenticate after the damage. */
  readableAfter?: number
}

/**
 * A store's data failed authentication or decoding somewhere other than a
 * torn tail (a crash's interrupted last write). The store changed nothing on
 * disk; the optional fields say where the damage is and how much still reads,
 * so a caller can decide whether to run the store's repair.
 */
export class StoreCorruptError extends DntError {
  static override readonly code: string = 'DNT_STORE_CORRUPT'
  override readonly name: string = 'StoreCorruptError'
  /** The damaged file (or database and sublevel). */
  declare readonly file?: string
  /** Byte offset of the damage in `file`. */
  declare readonly offset?: number
  /** The first record (or element, or value in key order) that does not read. */
  declare readonly record?: number
  /** Key of the damaged value in a key-value store, e.g. `e:42`. */
  declare readonly key?: string
  /** What still authenticates before the damage. */
  declare readonly readableBefore?: number
  /** What still authenticates after the damage. */
  declare readonly readableAfter?: number

  constructor(message: string, options?: { cause?: unknown } & StoreDamage) {
    super(message, options)
    if (options === undefined) return
    for (const field of DAMAGE_FIELDS) {
      const value = options[field]
      if (value !== undefined) (this as StoreDamage)[field] = value as never
    }
  }
}

const DAMAGE_FIELDS = [
  'file',
  'offset',
  'record',
  'key',
  'readableBefore',
  'readableAfter'
] as const satisfies ReadonlyArray<keyof StoreDamage>

/**
 * A store was opened with a key other than the one that wrote it: the
 * node's key differs from the one this store was written with. A store
 * whose key follows the libp2p node (made without a key, run by the `dnt()`
 * service) meets it when the node's identity changed, e.g. a node created
 * without a fixed `privateKey`, which gets a new identity at every start.
 */
export class StoreKeyMismatchError extends DntError {
  static override readonly code: string = 'DNT_STORE_KEY_MISMATCH'
  override readonly name: string = 'StoreKeyMismatchError'
}

/** Another process or another store instance holds the store. */
export class StoreLockedError extends DntError {
  static override readonly code: string = 'DNT_STORE_LOCKED'
  override readonly name: string = 'StoreLockedError'
}

/** The store was used before `open()` or after `close()`. */
export class StoreClosedError extends DntError {
  static override readonly code: string = 'DNT_STORE_CLOSED'
  override readonly name: string = 'StoreClosedError'
}

/** A write (`apply`) to a store opened with `readOnly: true`. */
export class StoreReadOnlyError extends DntError {
  static override readonly code: string = 'DNT_STORE_READ_ONLY'
  override readonly name: string = 'StoreReadOnlyError'
}

/** The store failed recently; persisted messages are refused until it recovers. */
export class StoreUnavailableError extends DntError {
  static override readonly code: string = 'DNT_STORE_UNAVAILABLE'
  override readonly name: string = 'StoreUnavailableError'
}

/** A capacity limit of the outbox (entries or bytes, global or per peer) is reached. */
export class OutboxFullError extends DntError {
  static override readonly code: string = 'DNT_OUTBOX_FULL'
  override readonly name: string = 'OutboxFullError'
}

/** The outbox is not started, or is stopping. */
export class OutboxStoppedError extends DntError {
  static override readonly code: string = 'DNT_OUTBOX_STOPPED'
  override readonly name: string = 'OutboxStoppedError'
}

/** A payload is larger than the configured maximum. */
export class MessageTooLargeError extends DntError {
  static override readonly code: string = 'DNT_MESSAGE_TOO_LARGE'
  override readonly name: string = 'MessageTooLargeError'
}

/** Key material is not a usable Ed25519 private key. */
export class InvalidKeyError extends DntError {
  static override readonly code: string = 'DNT_INVALID_KEY'
  override readonly name: string = 'InvalidKeyError'
}

/** A message id that is already queued or dead-lettered was sent again. */
export class DuplicateIdError extends DntError {
  static override readonly code: string = 'DNT_DUPLICATE_ID'
  override readonly name: string = 'DuplicateIdError'
}

/** Decryption failed: wrong key, or the bytes were altered. */
export class DecryptionError extends DntError {
  static override readonly code: string = 'DNT_DECRYPTION_FAILED'
  override readonly name: string = 'DecryptionError'
}

/** Renders any thrown value as one line, for `lastError` and logs. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return typeof code === 'string' && !error.message.includes(code)
      ? `${error.name} (${code}): ${error.message}`
      : `${error.name}: ${error.message}`
  }
  try {
    return `non-error rejection: ${JSON.stringify(error)}`
  } catch {
    return `non-error rejection: ${String(error)}`
  }
}

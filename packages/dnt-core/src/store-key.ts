import type { KeySource } from './aead.js'
import type { PrivateKeyInput } from './crypto.js'
import type { StoreNode } from './types.js'

/** The key options of every encrypting store of dntkit. */
export interface StoreKeyInit {
  /** The node's Ed25519 private key (64 raw bytes or a libp2p `PrivateKey`); the store key is derived from it. */
  privateKey?: PrivateKeyInput
  /** The AES-256-GCM store key itself (32 bytes or a `CryptoKey`), instead of `privateKey`. */
  key?: CryptoKey | Uint8Array
  /** `false` stores values unencrypted; only when passed explicitly. */
  encryption?: boolean
}

/**
 * Where the key came from: `privateKey` or `key` given to the store, the
 * node that runs it (`useNode()`, the store was made without a key), or
 * none (`encryption: false`).
 */
export type StoreKeyOrigin = 'privateKey' | 'key' | 'node' | 'none'

/**
 * The key of an encrypting store: the `privateKey` or `key` it was made
 * with, `encryption: false`, or, made with none of them, the private key of
 * the libp2p node that runs it (`Store.useNode()`, which the `dnt()` service
 * calls with libp2p's `components.privateKey`): the store key then follows
 * the node's identity. The stores of dntkit share this one rule.
 */
export class StoreKey {
  private nodeKey: PrivateKeyInput | undefined

  /** Checks `init`; throws `TypeError` (naming `name`, e.g. `levelStore()`) for a key together with `encryption: false`. */
  constructor(
    private readonly init: StoreKeyInit,
    private readonly name: string
  ) {
    if (init.encryption !== undefined && typeof init.encryption !== 'boolean') {
      throw new TypeError(`${name} option \`encryption\` must be a boolean`)
    }
    const given = init.privateKey != null || init.key != null
    if (init.encryption === false && given) {
      throw new TypeError(
        `${name} got \`encryption: false\` together with a key: pass one or the other`
      )
    }
  }

  /** Where the key comes from. */
  get origin(): StoreKeyOrigin {
    if (this.init.encryption === false) return 'none'
    if (this.init.key != null) return 'key'
    if (this.init.privateKey != null) return 'privateKey'
    return 'node'
  }

  /** Values are sealed (every origin but `encryption: false`). */
  get encrypted(): boolean {
    return this.init.encryption !== false
  }

  /** Takes the node's private key, for a store made without a key (otherwise nothing changes). */
  useNode(node: StoreNode): void {
    if (this.origin === 'node' && node?.privateKey != null) this.nodeKey = node.privateKey
  }

  /**
   * The source to derive the key from, or `undefined` for `encryption:
   * false`. Throws `TypeError` when the store has no key yet: made without
   * one, and not run by a node that gave it its own.
   */
  source(where: string): KeySource | undefined {
    const { init } = this
    if (init.encryption === false) return undefined
    if (init.key != null) return { key: init.key }
    if (init.privateKey != null) return { privateKey: init.privateKey }
    if (this.nodeKey != null) return { privateKey: this.nodeKey }
    throw new TypeError(
      `${where} has no key: pass \`privateKey\` (the node's private key) or \`key\` to ${this.name}, or \`encryption: false\`; run by the dnt() service, it takes the libp2p node's own private key`
    )
  }

  /** The message of `StoreKeyMismatchError` for a store this key does not open. */
  mismatch(where: string): string {
    if (this.origin === 'key') {
      return `${where}: the key given differs from the one this store was written with; nothing was read or changed`
    }
    const hint =
      this.origin === 'node'
        ? " (the store key follows the libp2p node's identity: a node created without a fixed `privateKey` gets a new identity at every start, so keep the node's key and give createLibp2p the same one every time)"
        : ''
    return `${where}: the node's key differs from the one this store was written with${hint}; nothing was read or changed`
  }
}

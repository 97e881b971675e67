import type { LoggerFactory, PrivateKeyInput } from '@dntkit/core'
import { StoreKey } from '@dntkit/core/plugin'
import type { Datastore } from 'interface-datastore'
import { DEFAULT_PREFIX } from './constants.js'

/** Options of `datastoreStore()`. Every one is optional inside the `dnt()` service. */
export interface DatastoreStoreInit {
  /**
   * The datastore to keep the entries in, open. Default: the libp2p node's
   * own datastore (`components.datastore`), given by the `dnt()` service.
   */
  datastore?: Datastore
  /**
   * The node's Ed25519 private key (64 raw bytes or a libp2p `PrivateKey`);
   * the store key is derived from it. Default: the private key of the node
   * whose `dnt()` service runs the store.
   */
  privateKey?: PrivateKeyInput
  /** The AES-256-GCM store key itself (32 bytes or a `CryptoKey`), instead of `privateKey`. */
  key?: CryptoKey | Uint8Array
  /** `false` stores values unencrypted; only when passed explicitly. */
  encryption?: boolean
  /**
   * The datastore key the store keeps its records under (default
   * `/dntkit/outbox`). Two stores in one datastore (an outbox and a
   * receiver's dedupe window) need two prefixes.
   */
  prefix?: string
  /** Read without ever writing: no marker is created and `apply()` rejects with `StoreReadOnlyError` (default false). */
  readOnly?: boolean
  /** Logger factory (default: core's `defaultLogger`, `DEBUG=dntkit:store-datastore`). */
  logger?: LoggerFactory
}

/** The options after checking, with defaults applied. */
export interface ResolvedInit {
  datastore?: Datastore
  key: StoreKey
  prefix: string
  readOnly: boolean
  logger?: LoggerFactory
}

const OPTIONS = new Set([
  'datastore',
  'privateKey',
  'key',
  'encryption',
  'prefix',
  'readOnly',
  'logger'
])

/** `/` then segments of the characters a datastore key keeps as they are; no trailing `/`. */
const PREFIX_PATTERN = /^(\/[A-Za-z0-9._~:@+=-]+)+$/

/** Throws `TypeError` when `value` does not look like an `interface-datastore` `Datastore`. */
export function checkDatastore(value: unknown, name: string): Datastore {
  const methods = ['get', 'put', 'batch', 'query'] as const
  const candidate = value as Record<string, unknown> | null
  if (
    candidate == null ||
    typeof candidate !== 'object' ||
    methods.some((method) => typeof candidate[method] !== 'function')
  ) {
    throw new TypeError(`${name} must be an interface-datastore Datastore (get, put, batch, query)`)
  }
  return value as Datastore
}

/** Checks `init`; throws `TypeError` naming the option at fault. */
export function resolveInit(init: DatastoreStoreInit): ResolvedInit {
  if (init == null || typeof init !== 'object') {
    throw new TypeError('datastoreStore() options must be an object')
  }
  for (const name of Object.keys(init)) {
    if (!OPTIONS.has(name)) throw new TypeError(`datastoreStore(): unknown option "${name}"`)
  }
  const prefix = init.prefix ?? DEFAULT_PREFIX
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new TypeError(
      `datastoreStore() option \`prefix\` must be a datastore key such as "/dntkit/outbox" (got ${JSON.stringify(prefix)})`
    )
  }
  if (init.readOnly !== undefined && typeof init.readOnly !== 'boolean') {
    throw new TypeError('datastoreStore() option `readOnly` must be a boolean')
  }
  const resolved: ResolvedInit = {
    key: new StoreKey(init, 'datastoreStore()'),
    prefix,
    readOnly: init.readOnly ?? false
  }
  if (init.datastore !== undefined) {
    resolved.datastore = checkDatastore(init.datastore, 'datastoreStore() option `datastore`')
  }
  if (init.logger !== undefined) resolved.logger = init.logger
  return resolved
}

/** Every default and format constant of this package, in one place. */

/** HKDF `info` label of the store key, and the first part of every record's associated data. */
export const KEY_LABEL = 'dntkit/store-datastore/v1'

/** Format version written in the marker record; bump when the layout or value format changes. */
export const FORMAT_VERSION = 1

/** Datastore key under which the store keeps its records, unless `prefix` says otherwise. */
export const DEFAULT_PREFIX = '/dntkit/outbox'

/** Name of the logger (`DEBUG=dntkit:store-datastore`). */
export const LOGGER_NAME = 'dntkit:store-datastore'

/** Bytes of the random store id kept in the marker and bound into every value. */
export const STORE_ID_BYTES = 16

/** Hexadecimal digits of an entry key's sequence number (a u64). */
export const SEQUENCE_DIGITS = 16

/** Marker modes. */
export const MODE_PLAINTEXT = 0
export const MODE_AES_256_GCM = 1

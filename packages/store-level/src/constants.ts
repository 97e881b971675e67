/** HKDF `info` label of the store key, and the first part of every record's associated data. */
export const KEY_LABEL = 'dntkit/store-level/v1'

/** Format version written in the marker record; bump when the layout or value format changes. */
export const FORMAT_VERSION = 1

/** Name of the sublevel the store keeps its keys in, unless `prefix` says otherwise. */
export const DEFAULT_PREFIX = 'dntkit'

/** Name of the logger (`DEBUG=dntkit:store-level`). */
export const LOGGER_NAME = 'dntkit:store-level'

/** Records read from the database per step while opening. */
export const OPEN_READ_CHUNK = 1024

/** Bytes of the random store id kept in the marker and bound into every value. */
export const STORE_ID_BYTES = 16

/** Marker modes. */
export const MODE_PLAINTEXT = 0
export const MODE_AES_256_GCM = 1

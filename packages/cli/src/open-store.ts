import { mkdirSync } from 'node:fs'
import { memoryStore, type Store } from '@dntkit/core'
import { STORE_DIRECTORY_MODE } from './constants.js'
import type { StoreLocation } from './store-uri.js'

/** How a command opens a store. */
export interface StoreOpenOptions {
  /**
   * Read only: the store writes, truncates, renames and locks nothing (a
   * `level:` store reads a private copy) and refuses every write.
   */
  readOnly?: boolean
  /** Called with each warning the store reports (a torn tail, a stale lock taken over). */
  onWarning?: (message: string) => void
}

/**
 * The store a URI names, keyed by the node's private key (64 raw bytes).
 * Nothing is opened yet: `open()` is the caller's (or the outbox's) to call.
 * The store packages are imported on demand, so `dnt inspect --store file:...`
 * never loads LevelDB.
 */
export async function createStore(
  location: StoreLocation,
  privateKey: Uint8Array,
  options: StoreOpenOptions = {}
): Promise<Store> {
  const readOnly = options.readOnly ?? false
  const onWarning =
    options.onWarning === undefined
      ? {}
      : { onWarning: (warning: { message: string }) => options.onWarning?.(warning.message) }
  switch (location.kind) {
    case 'memory':
      return memoryStore({ readOnly })
    case 'file': {
      const { fileStore } = await import('@dntkit/store-file')
      return fileStore({ directory: location.path, privateKey, readOnly, ...onWarning })
    }
    case 'oc-discovery': {
      const { ocDiscoveryFileStore } = await import('@dntkit/store-file')
      return ocDiscoveryFileStore({ file: location.path, privateKey, readOnly, ...onWarning })
    }
    case 'level': {
      // LevelDB would create it 0755; a missing one is created owner-only first (never to read)
      if (!readOnly) mkdirSync(location.path, { recursive: true, mode: STORE_DIRECTORY_MODE })
      const { levelStore } = await import('@dntkit/store-level')
      return levelStore({ location: location.path, privateKey, readOnly })
    }
  }
}

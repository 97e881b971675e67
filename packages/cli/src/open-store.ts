import { mkdirSync } from 'node:fs'
import { memoryStore, type Store } from '@dntkit/core'
import { STORE_DIRECTORY_MODE } from './constants.js'
import type { StoreLocation } from './store-uri.js'

/**
 * The store a URI names, keyed by the node's private key (64 raw bytes).
 * Nothing is opened yet: `open()` is the caller's (or the outbox's) to call.
 * The store packages are imported on demand, so `dnt inspect --store file:...`
 * never loads LevelDB.
 */
export async function createStore(location: StoreLocation, privateKey: Uint8Array): Promise<Store> {
  switch (location.kind) {
    case 'memory':
      return memoryStore()
    case 'file': {
      const { fileStore } = await import('@dntkit/store-file')
      return fileStore({ directory: location.path, privateKey })
    }
    case 'oc-discovery': {
      const { ocDiscoveryFileStore } = await import('@dntkit/store-file')
      return ocDiscoveryFileStore({ file: location.path, privateKey })
    }
    case 'level': {
      // LevelDB would create it 0755; a missing one is created owner-only first
      mkdirSync(location.path, { recursive: true, mode: STORE_DIRECTORY_MODE })
      const { levelStore } = await import('@dntkit/store-level')
      return levelStore({ location: location.path, privateKey })
    }
  }
}

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ed25519FromSeed } from '@dntkit/core'
import { deriveStoreKey } from '@dntkit/core/plugin'
import { storeSuite } from '@dntkit/core/testing'
import { sqliteStore } from '../src/sqlite-store.js'

// The whole hookup of a store to the dntkit conformance suite: a fresh location
// per test, and a factory that opens a store on it (called again to "restart").
let directory: string

storeSuite('sqlite (sql.js)', {
  setup: async () => {
    directory = await mkdtemp(join(tmpdir(), 'dntkit-sqlite-'))
    return (options) =>
      sqliteStore({ file: join(directory, 'outbox.sqlite'), readOnly: options?.readOnly ?? false })
  },
  teardown: () => rm(directory, { recursive: true, force: true }),
  // the factory makes read-only stores too: the suite checks they never write
  readOnly: true
})

const privateKey = ed25519FromSeed(new Uint8Array(32).fill(7))

storeSuite('sqlite (sql.js), sealed records', {
  setup: async () => {
    directory = await mkdtemp(join(tmpdir(), 'dntkit-sqlite-sealed-'))
    const key = await deriveStoreKey(privateKey, 'dntkit-example/sqlite-store/v1')
    return () => sqliteStore({ file: join(directory, 'outbox.sqlite'), key })
  },
  teardown: () => rm(directory, { recursive: true, force: true }),
  // the plain run above holds the default 100,000; sealing each record costs
  // one WebCrypto call, so this run keeps the test time of the example short
  largeQueueEntries: 20_000
})

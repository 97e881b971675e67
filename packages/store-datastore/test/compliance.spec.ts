import { storeSuite } from '@dntkit/core/testing'
import { MemoryDatastore } from 'datastore-core'
import { LevelDatastore } from 'datastore-level'
import { datastoreStore } from '../src/index.js'
import { privateKey, temporaryDirectory } from './fixtures.js'

let directory: { path: string; remove(): Promise<void> } | undefined
let datastore: LevelDatastore | undefined

async function levelDatastore(): Promise<LevelDatastore> {
  directory = await temporaryDirectory()
  datastore = new LevelDatastore(directory.path)
  await datastore.open()
  return datastore
}

async function teardown(): Promise<void> {
  await datastore?.close()
  datastore = undefined
  await directory?.remove()
  directory = undefined
}

storeSuite('datastore (datastore-level, encrypted)', {
  async setup() {
    const level = await levelDatastore()
    return (options) =>
      datastoreStore({ datastore: level, privateKey, readOnly: options?.readOnly ?? false })
  },
  teardown,
  readOnly: true
})

storeSuite('datastore (datastore-level, encryption: false, under another prefix)', {
  async setup() {
    const level = await levelDatastore()
    return (options) =>
      datastoreStore({
        datastore: level,
        encryption: false,
        prefix: '/app/queues/outbox',
        readOnly: options?.readOnly ?? false
      })
  },
  teardown,
  readOnly: true,
  // the suite above holds the full 100,000; these variants are about the datastore and the format
  largeQueueEntries: 20_000
})

storeSuite("datastore (MemoryDatastore, the node's datastore and key through useNode)", {
  setup() {
    const memory = new MemoryDatastore()
    return (options) => {
      const store = datastoreStore({ readOnly: options?.readOnly ?? false })
      store.useNode({ privateKey, datastore: memory })
      return store
    }
  },
  readOnly: true,
  largeQueueEntries: 20_000
})

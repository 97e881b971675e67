import { storeSuite } from '@dntkit/core/testing'
import { ClassicLevel as Level } from 'classic-level'
import { MemoryLevel } from 'memory-level'
import { type ApplicationDatabase, levelStore } from '../src/index.js'
import { privateKey, temporaryDirectory } from './fixtures.js'

let directory: { path: string; remove(): Promise<void> } | undefined
let application: Level<string, string> | MemoryLevel<string, string> | undefined

async function teardown(): Promise<void> {
  await application?.close()
  application = undefined
  await directory?.remove()
}

storeSuite('level (encrypted)', {
  async setup() {
    directory = await temporaryDirectory()
    const location = directory.path
    return (options) => levelStore({ location, privateKey, readOnly: options?.readOnly ?? false })
  },
  teardown,
  readOnly: true
})

storeSuite('level (encryption: false)', {
  async setup() {
    directory = await temporaryDirectory()
    const location = directory.path
    return (options) =>
      levelStore({ location, encryption: false, readOnly: options?.readOnly ?? false })
  },
  teardown,
  readOnly: true,
  // the suite above holds the full 100,000; these variants are about where the keys live
  largeQueueEntries: 20_000
})

/** An application's own open database (with data of its own), as `db` is given in an app. */
async function applicationDatabase(): Promise<Level<string, string>> {
  directory = await temporaryDirectory()
  const database = new Level<string, string>(directory.path, { valueEncoding: 'json' })
  await database.open()
  await database.put('app-key', 'app-value')
  application = database
  return database
}

storeSuite('level in an existing application database', {
  async setup() {
    const database = await applicationDatabase()
    return (options) =>
      levelStore({
        db: database,
        prefix: 'outbox',
        privateKey,
        readOnly: options?.readOnly ?? false
      })
  },
  teardown,
  readOnly: true,
  largeQueueEntries: 20_000
})

storeSuite('level in a sublevel of an application database', {
  async setup() {
    const database = await applicationDatabase()
    const services = database.sublevel('services') as unknown as ApplicationDatabase
    return (options) =>
      levelStore({ db: services, privateKey, readOnly: options?.readOnly ?? false })
  },
  teardown,
  readOnly: true,
  largeQueueEntries: 20_000
})

storeSuite('level in a memory-level database (Uint8Array storage, like browser-level)', {
  async setup() {
    const memory = new MemoryLevel<string, string>({ storeEncoding: 'view' })
    await memory.open()
    application = memory
    return (options) =>
      levelStore({ db: memory, encryption: false, readOnly: options?.readOnly ?? false })
  },
  teardown,
  readOnly: true,
  largeQueueEntries: 20_000
})

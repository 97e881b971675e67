import { storeSuite } from '@dntkit/core/testing'
import { levelStore } from '../src/index.js'
import { privateKey, temporaryDirectory } from './fixtures.js'

let directory: { path: string; remove(): Promise<void> } | undefined

storeSuite('level (encrypted)', {
  async setup() {
    directory = await temporaryDirectory()
    const location = directory.path
    return () => levelStore({ location, privateKey })
  },
  async teardown() {
    await directory?.remove()
  }
})

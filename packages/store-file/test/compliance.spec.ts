import { join } from 'node:path'
import { storeSuite } from '@dntkit/core/testing'
import { fileStore, ocDiscoveryFileStore } from '../src/index.js'
import { temporaryDirectory, testPrivateKey } from './fixtures.js'

let directory: Awaited<ReturnType<typeof temporaryDirectory>>

storeSuite('fileStore', {
  async setup() {
    directory = await temporaryDirectory()
    return (options) =>
      fileStore({
        directory: join(directory.path, 'store'),
        privateKey: testPrivateKey(),
        readOnly: options?.readOnly ?? false
      })
  },
  teardown: () => directory.remove(),
  readOnly: true
})

storeSuite('fileStore, compacting on every chance', {
  async setup() {
    directory = await temporaryDirectory()
    return () =>
      fileStore({
        directory: join(directory.path, 'store'),
        privateKey: testPrivateKey(),
        compaction: { minJournalBytes: 0, journalBytesRatio: 0, journalRecordsRatio: 0 }
      })
  },
  teardown: () => directory.remove(),
  // the variant is about the compaction path; the suite above holds the full 100,000
  largeQueueEntries: 20_000
})

storeSuite('ocDiscoveryFileStore', {
  async setup() {
    directory = await temporaryDirectory()
    return (options) =>
      ocDiscoveryFileStore({
        file: join(directory.path, 'dnt_cache.bin'),
        privateKey: testPrivateKey(),
        readOnly: options?.readOnly ?? false
      })
  },
  teardown: () => directory.remove(),
  readOnly: true,
  // the Go format rewrites the whole file on every apply (that is the format: one sealed JSON
  // array); 100,000 entries work (about 6 s for this test on 2 loaded cores) but are not what
  // the format is for, so the run stays short with 20,000
  largeQueueEntries: 20_000
})

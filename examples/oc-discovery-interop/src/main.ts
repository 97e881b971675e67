import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runInteropExample } from './example.js'

// never hang: the whole story takes a few seconds. The watchdog also keeps the process alive while the
// outbox waits for a retry (its own timers are unref'd and would let it exit).
const watchdog = setTimeout(() => {
  console.error('the example took more than 60 s; giving up')
  process.exit(1)
}, 60_000)

const directory = await mkdtemp(join(tmpdir(), 'dntkit-oc-discovery-'))
console.log(
  "dntkit oc-discovery-interop example: the Go original's dnt_cache.bin, read and written"
)
try {
  const result = await runInteropExample({ directory, say: (line) => console.log(line) })
  const held =
    result.listed.length === 3 &&
    result.received.join() === 'create res-1,update res-1' &&
    result.goReadBack.map((entry) => Buffer.from(entry.payload).toString()).join() ===
      'delete res-7,create res-9' &&
    result.migrated.length === 2 &&
    result.goAfterMigration.length === 0
  console.log(
    held
      ? 'Done: read the Go file, delivered 2, wrote back 2 that Go reads, then migrated them.'
      : `FAILED: ${JSON.stringify(result)}`
  )
  process.exitCode = held ? 0 : 1
} finally {
  clearTimeout(watchdog)
  await rm(directory, { recursive: true, force: true })
}

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCustomStoreExample } from './example.js'

// never hang: the whole story takes a second. The watchdog also keeps the process alive while the
// outbox waits for a retry (its own timers are unref'd and would let it exit).
const watchdog = setTimeout(() => {
  console.error('the example took more than 60 s; giving up')
  process.exit(1)
}, 60_000)

const directory = await mkdtemp(join(tmpdir(), 'dntkit-custom-store-'))
console.log('dntkit custom-store example: an Outbox on a Store of your own (SQLite via sql.js)')
try {
  const result = await runCustomStoreExample({ directory, say: (line) => console.log(line) })
  const held =
    result.restored === 3 &&
    result.delivered.join() === 'first,second,third' &&
    result.leftInStore === 0
  console.log(
    held
      ? 'Done: queued in SQLite, restored after the restart, delivered in order, store empty.'
      : `FAILED: ${JSON.stringify(result)}`
  )
  process.exitCode = held ? 0 : 1
} finally {
  clearTimeout(watchdog)
  await rm(directory, { recursive: true, force: true })
}

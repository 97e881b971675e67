import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runServiceExample } from './example.js'

// never hang: the whole story takes a few seconds. The watchdog also keeps the process alive while the
// outbox waits for a retry (its own timers are unref'd and would let it exit).
const watchdog = setTimeout(() => {
  console.error('the example took more than 60 s; giving up')
  process.exit(1)
}, 60_000)

const directory = await mkdtemp(join(tmpdir(), 'dntkit-service-'))
console.log('dntkit libp2p-service example: dnt() inside your node, envelope mode, receiver dedupe')
try {
  const { processed, duplicates } = await runServiceExample({
    directory,
    say: (line) => console.log(line)
  })
  const expected = ['order-1001', 'order-1002', 'order-1003']
  const held = processed.join() === expected.join() && duplicates.length === 2
  console.log(
    held
      ? `Done: 6 sends, 3 orders processed exactly once, ${duplicates.length} duplicates dropped.`
      : `FAILED: processed ${JSON.stringify(processed)}, duplicates ${JSON.stringify(duplicates)}`
  )
  process.exitCode = held ? 0 : 1
} finally {
  clearTimeout(watchdog)
  await rm(directory, { recursive: true, force: true })
}

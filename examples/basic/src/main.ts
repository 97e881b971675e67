import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runBasicExample } from './example.js'

// never hang: the whole story takes a few seconds. The watchdog also keeps the process alive while the
// outbox waits for a retry (its own timers are unref'd and would let it exit).
const watchdog = setTimeout(() => {
  console.error('the example took more than 60 s; giving up')
  process.exit(1)
}, 60_000)

const directory = await mkdtemp(join(tmpdir(), 'dntkit-basic-'))
console.log(`dntkit basic example: a sender, a receiver, the file store (in ${directory})`)
try {
  const result = await runBasicExample({ directory, say: (line) => console.log(line) })
  const inOrder = result.received.join('|') === result.sent.join('|')
  const held = inOrder && result.leftInStore === 0 && !result.plaintextOnDisk
  console.log(
    held
      ? `Done: ${result.received.length}/${result.sent.length} delivered, in order, none lost.`
      : `FAILED: sent ${JSON.stringify(result.sent)}, received ${JSON.stringify(result.received)}`
  )
  process.exitCode = held ? 0 : 1
} finally {
  clearTimeout(watchdog)
  await rm(directory, { recursive: true, force: true })
}

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runRequestResponseExample } from './example.js'

// never hang: the whole story takes a few seconds. The watchdog also keeps the process alive while the
// outbox waits for a retry (its own timers are unref'd and would let it exit).
const watchdog = setTimeout(() => {
  console.error('the example took more than 60 s; giving up')
  process.exit(1)
}, 60_000)

const directory = await mkdtemp(join(tmpdir(), 'dntkit-request-response-'))
console.log(
  'dntkit request-response example: answers with the delivery, the same answer to a retry'
)
try {
  const { requests, takenLater, created, duplicates } = await runRequestResponseExample({
    directory,
    say: (line) => console.log(line)
  })
  const first = requests[0]?.answer
  const held =
    created.join() === 'order-a,order-b' &&
    duplicates.join() === 'order-a' &&
    first !== undefined &&
    requests[1]?.answer === first &&
    requests[2]?.status === 'refused: invalid-order' &&
    takenLater === '{"orderNumber":2,"item":"chair"}'
  console.log(
    held
      ? `Done: ${requests.length} requests, 2 orders created once each, every answer where it belongs.`
      : `FAILED: ${JSON.stringify({ requests, takenLater, created, duplicates })}`
  )
  process.exitCode = held ? 0 : 1
} finally {
  clearTimeout(watchdog)
  await rm(directory, { recursive: true, force: true })
}

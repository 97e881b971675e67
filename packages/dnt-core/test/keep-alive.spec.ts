import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url))

// a script whose only pending work is one backoff retry: the outbox's own timer is unref'd
const script = `
import { definePolicy, Outbox, PeerUnreachableError } from ${JSON.stringify(dist)}
let attempts = 0
const transport = { async deliver() { if (++attempts === 1) throw new PeerUnreachableError('down') } }
const policy = definePolicy({ levels: { critical: { backoff: { type: 'fixed', interval: 200 } } } })
const outbox = new Outbox({ transport, policy })
await outbox.start()
console.log((await outbox.send({ peer: 'p', protocol: '/p', payload: new Uint8Array(1) })).status)
await outbox.whenDrained()
console.log('drained after', attempts, 'attempts')
await outbox.stop()
`

describe('waiting keeps the process alive', () => {
  it('a script awaiting whenDrained() with only a retry pending does not exit before it', async () => {
    const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>(
      (resolve) => {
        const child = execFile(
          process.execPath,
          ['--input-type=module', '-e', script],
          { timeout: 30_000 },
          (error, out) =>
            resolve({ stdout: out, code: error === null ? 0 : (error.code as number) })
        )
        void child
      }
    )
    expect(stdout.trim().split('\n')).toEqual(['queued', 'drained after 2 attempts'])
    expect(code).toBe(0)
  })
})

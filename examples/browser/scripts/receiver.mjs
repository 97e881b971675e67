// `pnpm receiver [PORT]`: runs `dnt listen` on /ip4/127.0.0.1/tcp/PORT/ws (default 9091) for the
// page's protocol, in envelope mode, printing each message it receives as a JSON line. Its key is
// kept in .receiver/ so its address stays the same from run to run; paste the
// "listening on .../ws/p2p/..." address it prints into the page.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const dnt = join(root, 'node_modules/@dntkit/cli/dist/bin.js')
if (!existsSync(dnt)) {
  console.error(
    'the dnt CLI is missing: run `npm install` in this folder (inside the dntkit repository: `pnpm install && pnpm build` at its root)'
  )
  process.exit(1)
}
const port = process.argv[2] ?? '9091'
if (!/^\d+$/.test(port)) {
  console.error(`usage: pnpm receiver [PORT] (got ${JSON.stringify(port)})`)
  process.exit(2)
}
const directory = join(root, '.receiver')
const key = join(directory, 'receiver.key')
mkdirSync(directory, { recursive: true, mode: 0o700 })
if (!existsSync(key)) {
  const made = spawnSync(process.execPath, [dnt, 'keygen', '--out', key], { stdio: 'inherit' })
  if (made.status !== 0) process.exit(made.status ?? 1)
}
const listen = spawn(
  process.execPath,
  [
    dnt,
    'listen',
    '--key',
    key,
    '--listen',
    `/ip4/127.0.0.1/tcp/${port}/ws`,
    '--protocol',
    '/dntkit-example/chat/1.0.0',
    '--mode',
    'envelope',
    '--jsonl',
    '-'
  ],
  { stdio: 'inherit' }
)
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => listen.kill(signal))
listen.on('exit', (code) => process.exit(code ?? 0))

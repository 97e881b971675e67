import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const dnt = join(import.meta.dirname, '../node_modules/@dntkit/cli/dist/bin.js')

/** A TCP port on 127.0.0.1 that is free right now (the receiver's, while it is down). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** `dnt keygen`: a receiver key in `directory`, and its peer id. */
export async function receiverKey(directory: string): Promise<{ key: string; peerId: string }> {
  const key = join(directory, 'receiver.key')
  const { stdout } = await run(process.execPath, [dnt, 'keygen', '--out', key])
  return { key, peerId: stdout.trim() }
}

/** One record of `dnt listen --jsonl`. */
export interface Received {
  id?: string
  from: string
  protocol: string
  data?: string
}

/** `dnt listen` on the websocket address, envelope mode; resolves once it listens. */
export async function startReceiver(init: {
  key: string
  port: number
  protocol: string
  jsonl: string
}): Promise<{ stop(): Promise<void>; received(): Promise<Received[]> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      dnt,
      'listen',
      '--key',
      init.key,
      '--listen',
      `/ip4/127.0.0.1/tcp/${init.port}/ws`,
      '--protocol',
      init.protocol,
      '--mode',
      'envelope',
      '--jsonl',
      init.jsonl
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] }
  )
  let errors = ''
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      errors += chunk.toString()
      if (errors.includes('listening on')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`dnt listen exited with ${code}: ${errors}`)))
  })
  return {
    async stop() {
      if (child.exitCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    },
    async received() {
      const text = await readFile(init.jsonl, 'utf8').catch(() => '')
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Received)
    }
  }
}

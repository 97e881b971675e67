import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CliIo } from '../command.js'
import { formatBytes } from '../format.js'
import { type ChildResult, pause, runDnt, startDnt } from './child.js'
import {
  DEMO_POLICY,
  DEMO_RETRY_INTERVAL,
  filesOf,
  freePort,
  ORDER_PROTOCOL,
  orders,
  PRESENCE_PROTOCOL,
  presencePings,
  readReceived,
  SECRET_MARKER,
  toJsonl
} from './scene.js'

const CRITICAL_COUNT = 5
const MODERATE_COUNT = 3
/** How long the first sender keeps retrying while the receiver is down (s). */
const FIRST_WAIT = 3
/** How long the sender that will crash runs before SIGKILL (ms). */
const CRASH_AFTER = 1_000
const READY_TIMEOUT = 15_000

/** Tells the story on `io.stdout` and records whether each claim held. */
class Narrator {
  readonly failures: string[] = []
  private step = 0

  constructor(private readonly io: CliIo) {}

  heading(title: string): void {
    this.step++
    this.io.stdout.write(`\n${this.step}. ${title}\n`)
  }

  line(text: string): void {
    this.io.stdout.write(`   ${text}\n`)
  }

  block(text: string): void {
    for (const line of text.trimEnd().split('\n')) this.io.stdout.write(`   | ${line}\n`)
  }

  check(held: boolean, claim: string): boolean {
    this.io.stdout.write(`   ${held ? 'ok ' : 'FAILED'} ${claim}\n`)
    if (!held) this.failures.push(claim)
    return held
  }
}

interface SendReport {
  delivered: number
  queued: number
  abandoned: number
  messages: Array<{ id: string; status: string; level: string }>
}

function parseReport(result: ChildResult): SendReport | undefined {
  try {
    return JSON.parse(result.stdout) as SendReport
  } catch {
    return undefined
  }
}

function exitOf(result: ChildResult): string {
  return result.signal === null ? `exit ${result.code}` : `killed by ${result.signal}`
}

/**
 * The whole story, each step a real `dnt` process on 127.0.0.1 in
 * `directory`: the receiver is down, critical and moderate messages are sent,
 * the critical ones wait encrypted on disk, the sender crashes (SIGKILL) and
 * restarts from the store, the receiver comes back, and each message ends as
 * its level says. Resolves to the claims that did not hold (none: exit 0).
 */
export async function tellStory(io: CliIo, directory: string): Promise<string[]> {
  // SIGINT / SIGTERM: every child is stopped, and none starts any more
  const signal = io.signal
  const say = new Narrator(io)
  const path = (name: string): string => join(directory, name)
  const storeDir = path('sender-store')
  const store = `file:${storeDir}`
  const receivedFile = path('received.jsonl')
  const senderKey = path('sender.key')
  const receiverKey = path('receiver.key')
  const keyArgs = ['--key', senderKey, '--store', store]

  say.heading('Two identities, a policy, and messages to send')
  const [sender, receiver] = await Promise.all([
    runDnt(['keygen', '--out', senderKey], undefined, signal),
    runDnt(['keygen', '--out', receiverKey], undefined, signal)
  ])
  const receiverId = receiver.stdout.trim()
  say.line(`sender   ${sender.stdout.trim()}`)
  say.line(`receiver ${receiverId}`)
  const port = await freePort()
  const listenAddress = `/ip4/127.0.0.1/tcp/${port}`
  const to = `${listenAddress}/p2p/${receiverId}`
  writeFileSync(path('policy.json'), `${JSON.stringify(DEMO_POLICY, null, 2)}\n`)
  say.line(`policy: ${ORDER_PROTOCOL} -> critical (persisted, retried until delivered)`)
  say.line(`        ${PRESENCE_PROTOCOL} -> moderate (memory only, first try + 3 retries)`)
  say.line(`        retries every ${DEMO_RETRY_INTERVAL} ms for the demo`)
  const firstBatch = [...orders(CRITICAL_COUNT), ...presencePings('ping', MODERATE_COUNT)]
  writeFileSync(path('messages.jsonl'), toJsonl(firstBatch))
  const policyArgs = ['--policy', path('policy.json')]

  say.heading(
    `The receiver is down: send ${CRITICAL_COUNT} orders and ${MODERATE_COUNT} presence pings`
  )
  say.line(
    `$ dnt send --store file:... --to ${listenAddress}/p2p/... --jsonl messages.jsonl --wait ${FIRST_WAIT}`
  )
  const first = await runDnt(
    [
      'send',
      ...keyArgs,
      '--to',
      to,
      '--jsonl',
      path('messages.jsonl'),
      ...policyArgs,
      '--mode',
      'envelope',
      '--wait',
      String(FIRST_WAIT),
      '--json'
    ],
    undefined,
    signal
  )
  const report = parseReport(first)
  const statusOf = (id: string): string | undefined =>
    report?.messages.find((message) => message.id === id)?.status
  say.line(
    `${exitOf(first)}: ${report?.delivered ?? '?'} delivered, ${report?.queued ?? '?'} queued, ${report?.abandoned ?? '?'} abandoned`
  )
  say.check(first.code === 3, 'dnt send exits 3: messages remain queued')
  say.check(
    orders(CRITICAL_COUNT).every((order) => statusOf(order.id) === 'queued'),
    'every order is queued, durably'
  )
  say.check(
    presencePings('ping', MODERATE_COUNT).every((ping) => statusOf(ping.id) === 'abandoned'),
    'every presence ping was abandoned after 1 + 3 attempts (moderate level)'
  )

  say.heading('On disk: queued and encrypted')
  const files = filesOf(storeDir)
  for (const file of files)
    say.line(`${file.name.padEnd(28)} ${formatBytes(file.size).padStart(8)}`)
  const plaintextFound = files.some(
    (file) => file.bytes.includes(SECRET_MARKER) || file.bytes.includes('espresso')
  )
  say.check(
    files.length > 0 && !plaintextFound,
    `"${SECRET_MARKER}" and "espresso" appear nowhere in the store's bytes`
  )
  const inspect = await runDnt(['inspect', ...keyArgs], undefined, signal)
  say.block(inspect.stdout)
  say.check(
    inspect.code === 0 && inspect.stdout.includes(`${CRITICAL_COUNT} queued`),
    `dnt inspect lists the ${CRITICAL_COUNT} orders`
  )

  say.heading('The sender retries, and crashes (SIGKILL) in the middle')
  const crashing = startDnt(['flush', ...keyArgs, ...policyArgs, '--wait', '60'], signal)
  await pause(CRASH_AFTER, signal)
  crashing.process.kill('SIGKILL')
  const crashed = await crashing.result
  say.line(`dnt flush --wait 60: ${exitOf(crashed)}`)
  const afterCrash = await runDnt(['inspect', ...keyArgs, '--json'], undefined, signal)
  const survivors = afterCrash.code === 0 ? (JSON.parse(afterCrash.stdout) as unknown[]).length : -1
  say.check(
    crashed.signal === 'SIGKILL' && survivors === CRITICAL_COUNT,
    `all ${CRITICAL_COUNT} orders are still in the store after the crash`
  )

  say.heading('The sender restarts from the store, then the receiver comes back')
  const restarted = startDnt(['flush', ...keyArgs, ...policyArgs, '--wait', '20'], signal)
  await pause(CRASH_AFTER, signal)
  const listener = startDnt(
    [
      'listen',
      '--key',
      receiverKey,
      '--listen',
      listenAddress,
      '--protocol',
      ORDER_PROTOCOL,
      '--protocol',
      PRESENCE_PROTOCOL,
      '--jsonl',
      receivedFile
    ],
    signal
  )
  try {
    await listener.waitForLine(/listening on (\S+)/, READY_TIMEOUT)
    say.line(`receiver listening on ${listenAddress}`)
    const flushed = await restarted.result
    say.line(`restarted dnt flush --wait 20: ${exitOf(flushed)}, ${flushed.stdout.trim()}`)
    say.check(flushed.code === 0, 'the restarted sender delivered everything it held (exit 0)')

    say.heading(`The receiver is up: ${MODERATE_COUNT} more presence pings`)
    const secondBatch = presencePings('hello', MODERATE_COUNT)
    writeFileSync(path('more.jsonl'), toJsonl(secondBatch))
    const second = await runDnt(
      [
        'send',
        ...keyArgs,
        '--to',
        to,
        '--jsonl',
        path('more.jsonl'),
        ...policyArgs,
        '--mode',
        'envelope'
      ],
      undefined,
      signal
    )
    say.line(`dnt send: ${exitOf(second)} ${second.stdout.trim()}`)
    say.check(second.code === 0, 'moderate messages are delivered when the peer is reachable')
  } finally {
    listener.process.kill('SIGTERM')
    const stopped = await listener.result
    say.check(stopped.code === 0, 'the receiver stops cleanly on SIGTERM (exit 0)')
  }

  say.heading('What the receiver got')
  const received = readReceived(receivedFile)
  const times = (id: string): number => received.filter((line) => line.id === id).length
  for (const line of received) say.line(`${line.id ?? '(raw)'}  ${line.data ?? ''}`)
  const ordersOnce = orders(CRITICAL_COUNT).every((order) => times(order.id) === 1)
  const droppedPings = presencePings('ping', MODERATE_COUNT).every((ping) => times(ping.id) === 0)
  const laterPings = presencePings('hello', MODERATE_COUNT).every((ping) => times(ping.id) === 1)
  say.check(
    ordersOnce,
    `every order arrived exactly once (${CRITICAL_COUNT} critical, through a crash)`
  )
  say.check(droppedPings, 'the abandoned presence pings never arrived, as the moderate level says')
  say.check(laterPings, 'the later presence pings arrived')

  say.heading('Summary')
  say.line(
    `critical: ${CRITICAL_COUNT} sent while the receiver was down -> ${ordersOnce ? CRITICAL_COUNT : '?'} delivered after a crash and a restart`
  )
  say.line(
    `moderate: ${MODERATE_COUNT} sent while it was down -> abandoned per policy; ${MODERATE_COUNT} sent while up -> delivered`
  )
  say.line(
    `at rest:  ${files.length} store ${files.length === 1 ? 'file' : 'files'}, ${formatBytes(files.reduce((sum, file) => sum + file.size, 0))}, AES-256-GCM, no plaintext`
  )
  return say.failures
}

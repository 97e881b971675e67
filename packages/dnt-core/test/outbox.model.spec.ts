import fc from 'fast-check'
import { describe, it } from 'vitest'
import {
  AdvanceCommand,
  BurstCommand,
  EditCommand,
  finish,
  PeerCommand,
  type Real,
  RestartCommand,
  SendCommand,
  StoreCommand
} from './model/commands.js'
import { Model } from './model/model.js'
import { observe } from './model/observe.js'
import { Incarnation, World } from './model/world.js'

/*
 * The Outbox against a plain model, under every store and network fault at
 * once: sends (fresh ids, the same id again, an id with another payload),
 * peers that go down, fail one message, refuse, are undeliverable, hang or
 * reconnect, the clock, purge, requeue, pause, flush, a store whose writes
 * fail (before or after applying) or hang, clean restarts and crashes that
 * drop every unsettled write; in the pipelined run also bursts of messages
 * to one peer. After every step: memory holds exactly the live messages in
 * FIFO order per peer, the store holds exactly what must be durable (once
 * writes have settled), a message reported delivered is never attempted
 * again, every removal is one the rules allow, nothing is abandoned or
 * expired while its attempt is in flight, retry budgets hold both ways (never
 * more attempts than first try + retries; abandoned as exhausted only once
 * that many attempts could have been charged: its own failures and its peer's
 * unreachable attempts, never another message's own failure), a `queued`
 * answer of a persisted level means a write of it landed, and a resend of a
 * message whose send still waits answers what that send answers; at the end
 * everything live is delivered and every promise has settled.
 *
 * MODEL_RUNS=20000 pnpm --filter @dntkit/core exec vitest run test/outbox.model.spec.ts
 * for a longer run. A failure prints MODEL_SEED=<seed> MODEL_PATH=<path> MODEL_REPLAY=<replay>
 * and the test's name: with them fast-check replays exactly the shrunk counterexample
 * (fc.commands needs its own replayPath for that); the seed alone runs the whole search again.
 */

const RUNS = Number(process.env.MODEL_RUNS ?? 2_000)
const SEED = process.env.MODEL_SEED === undefined ? undefined : Number(process.env.MODEL_SEED)
const PATH = process.env.MODEL_PATH
const REPLAY = process.env.MODEL_REPLAY

const commands = [
  fc
    .record({
      peer: fc.nat(2),
      level: fc.constantFrom(
        'critical' as const,
        'moderate' as const,
        'important' as const,
        'once' as const
      ),
      idChoice: fc.constantFrom(
        'fresh' as const,
        'fresh' as const,
        'same' as const,
        'different' as const
      ),
      index: fc.nat(40)
    })
    .map(({ peer, level, idChoice, index }) => new SendCommand(peer, level, idChoice, index)),

  fc
    .record({
      peer: fc.nat(2),
      mode: fc.constantFrom(
        'up' as const,
        'up' as const,
        'down' as const,
        'fail' as const,
        'reject' as const,
        'undeliverable' as const,
        'hang' as const,
        'flaky' as const,
        'connect' as const,
        'release' as const
      )
    })
    .map(({ peer, mode }) => new PeerCommand(peer, mode)),
  fc.integer({ min: 0, max: 5_000 }).map((ms) => new AdvanceCommand(ms)),
  fc
    .constantFrom(
      'healthy' as const,
      'fail' as const,
      'fail-after-apply' as const,
      'hang' as const,
      'release' as const
    )
    .map((mode) => new StoreCommand(mode)),
  fc
    .record({
      action: fc.constantFrom(
        'purge-id' as const,
        'purge-peer' as const,
        'requeue' as const,
        'requeue' as const,
        'pause' as const,
        'resume' as const,
        'flush' as const,
        'take-reply' as const
      ),
      index: fc.nat(40)
    })
    .map(({ action, index }) => new EditCommand(action, index)),
  fc
    .constantFrom('stop' as const, 'release-and-stop' as const, 'crash' as const)
    .map((how) => new RestartCommand(how))
]

/**
 * Several messages to one peer in one instant: deep queues, so the pipelined
 * run has entries in flight together when one of them fails (the strict FIFO
 * run does without, which keeps 2,000 sequences fast).
 */
const burst = fc
  .record({
    peer: fc.nat(2),
    levels: fc.array(
      fc.constantFrom(
        'critical' as const,
        'moderate' as const,
        'important' as const,
        'once' as const
      ),
      { minLength: 2, maxLength: 4 }
    )
  })
  .map(({ peer, levels }) => new BurstCommand(peer, levels))

async function run(perPeerConcurrency: number, runs: number, name: string): Promise<void> {
  const property = fc.asyncProperty(
    fc.commands(perPeerConcurrency > 1 ? [...commands, burst] : commands, {
      maxCommands: 60,
      size: 'large',
      ...(REPLAY === undefined ? {} : { replayPath: REPLAY })
    }),
    async (steps) => {
      const world = new World()
      const model = new Model()
      const first = new Incarnation(world, 1, perPeerConcurrency)
      model.incarnation = 1
      world.onArrival = (call) => model.arrived(call, perPeerConcurrency === 1)
      world.onCall = (call) => model.counted(call)
      observe(model, world, first)
      await first.outbox.start()
      const real: Real = { world, current: first, perPeerConcurrency, unsettled: new Set() }
      await fc.asyncModelRun(() => ({ model, real }), steps)
      await finish(model, real)
    }
  )
  const details = await fc.check(property, {
    numRuns: runs,
    ...(SEED === undefined ? {} : { seed: SEED }),
    ...(PATH === undefined ? {} : { path: PATH })
  })
  if (details.failed) {
    // all three, so that one command replays exactly the shrunk counterexample
    const replayPath = /replayPath="([^"]*)"/.exec(String(details.counterexample?.[0]))?.[1]
    const replay = `MODEL_SEED=${details.seed} MODEL_PATH=${details.counterexamplePath} MODEL_REPLAY='${replayPath}'`
    const cause = details.errorInstance
    throw new Error(
      `${replay} pnpm --filter @dntkit/core exec vitest run test/outbox.model.spec.ts -t "${name}"\n${fc.defaultReportMessage(details)}\n${cause instanceof Error ? cause.message : String(cause)}`,
      { cause }
    )
  }
}

describe('Outbox against a model, under store and network faults (#19)', () => {
  it(`strict FIFO (one delivery per peer at a time): ${RUNS} sequences`, async () => {
    await run(1, RUNS, 'strict FIFO')
  }, 600_000)

  it(`pipelined (three deliveries per peer in flight): ${Math.ceil(RUNS / 4)} sequences`, async () => {
    await run(3, Math.ceil(RUNS / 4), 'pipelined')
  }, 600_000)
})

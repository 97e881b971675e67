import fc from 'fast-check'
import { describe, it } from 'vitest'
import {
  AdvanceCommand,
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
 * drop every unsettled write. After every step: memory holds exactly the
 * live messages in FIFO order per peer, the store holds exactly what must be
 * durable (once writes have settled), no delivered message is attempted
 * again, every removal is one the rules allow, retry budgets hold; at the end
 * everything live is delivered and every promise has settled.
 *
 * MODEL_RUNS=20000 pnpm --filter @dntkit/core exec vitest run test/outbox.model.spec.ts
 * for a longer run; MODEL_SEED=<seed> replays a reported failure.
 */

const RUNS = Number(process.env.MODEL_RUNS ?? 2_000)
const SEED = process.env.MODEL_SEED === undefined ? undefined : Number(process.env.MODEL_SEED)

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

async function run(perPeerConcurrency: number, runs: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands: 60, size: 'large' }), async (steps) => {
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
    }),
    { numRuns: runs, seed: SEED }
  )
}

describe('Outbox against a model, under store and network faults (#19)', () => {
  it(`strict FIFO (one delivery per peer at a time): ${RUNS} sequences`, async () => {
    await run(1, RUNS)
  }, 600_000)

  it(`pipelined (three deliveries per peer in flight): ${Math.ceil(RUNS / 4)} sequences`, async () => {
    await run(3, Math.ceil(RUNS / 4))
  }, 600_000)
})

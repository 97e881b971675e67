import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  definePolicy,
  type Entry,
  memoryStore,
  Outbox,
  PeerUnreachableError,
  type Store,
  type StoreBatch,
  type Transport
} from '../src/index.js'
import { manualClock } from '../src/testing/index.js'
import { bytes, FakeTransport } from './helpers.js'

const PEERS = ['peer-0', 'peer-1', 'peer-2']
const policy = definePolicy({
  levels: {
    critical: { backoff: { type: 'fixed', interval: 1_000 } },
    moderate: { backoff: { type: 'fixed', interval: 1_000 } }
  }
})

type Action =
  | { type: 'send'; peer: number; level: 'critical' | 'moderate' }
  | { type: 'up' | 'down' | 'reconnect'; peer: number }
  | { type: 'advance'; ms: number }
  | { type: 'restart' | 'crash' }

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      type: fc.constant('send' as const),
      peer: fc.nat(2),
      level: fc.constantFrom('critical' as const, 'moderate' as const)
    })
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constantFrom('up' as const, 'down' as const, 'reconnect' as const),
      peer: fc.nat(2)
    })
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('advance' as const),
      ms: fc.integer({ min: 0, max: 4_000 })
    })
  },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constantFrom('restart' as const, 'crash' as const) })
  }
)

/** One process's view of the shared world: when it "dies", its transport and store go dead. */
class Incarnation {
  dead = false
  readonly transport: Transport
  readonly store: Store

  constructor(world: FakeTransport, store: Store) {
    const self = this
    this.transport = {
      async deliver(entry: Entry, options) {
        if (self.dead) throw new PeerUnreachableError('process is dead')
        return world.deliver(entry, options)
      },
      onReachable(listener) {
        return world.onReachable((peer) => {
          if (!self.dead) listener(peer)
        })
      }
    }
    this.store = {
      open: () => store.open(),
      apply: (batch: StoreBatch) => (self.dead ? new Promise<void>(() => {}) : store.apply(batch)),
      close: () => store.close()
    }
  }
}

describe('Outbox against a model (property-based)', () => {
  it('never loses an accepted persisted entry, keeps FIFO per peer, respects retry budgets', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { maxLength: 40 }), async (actions) => {
        const clock = manualClock()
        const world = new FakeTransport()
        const shared = memoryStore()
        const sentOrder = new Map<string, string[]>()
        const acceptedCritical = new Set<string>()
        const moderate = new Set<string>()
        const abandonedAt = new Map<string, number>()
        let incarnation = new Incarnation(world, shared)
        const boot = async (): Promise<Outbox> => {
          const outbox = new Outbox({
            transport: incarnation.transport,
            store: incarnation.store,
            clock,
            policy,
            random: () => 0.5
          })
          outbox.addEventListener('abandoned', (event) =>
            abandonedAt.set(event.detail.entry.id, world.calls.length)
          )
          await outbox.start()
          return outbox
        }
        let outbox = await boot()
        for (const step of actions) {
          if (step.type === 'send') {
            const peer = PEERS[step.peer] as string
            const result = await outbox.send(
              { peer, protocol: '/p', payload: bytes('x') },
              { level: step.level }
            )
            sentOrder.set(peer, [...(sentOrder.get(peer) ?? []), result.id])
            if (step.level === 'critical') acceptedCritical.add(result.id)
            else moderate.add(result.id)
          } else if (step.type === 'up' || step.type === 'down') {
            world.set(PEERS[step.peer] as string, step.type)
          } else if (step.type === 'reconnect') {
            world.connect(PEERS[step.peer] as string)
            await clock.advance(0)
          } else if (step.type === 'advance') {
            await clock.advance(step.ms)
          } else {
            if (step.type === 'restart') await outbox.stop()
            else incarnation.dead = true
            incarnation = new Incarnation(world, shared)
            outbox = await boot()
          }
        }
        for (const peer of PEERS) world.set(peer, 'up')
        await outbox.flush()
        await clock.advance(5_000)

        const firstDelivery = new Map<string, number>()
        world.calls.forEach((call, index) => {
          if (call.outcome === 'up' && !firstDelivery.has(call.id))
            firstDelivery.set(call.id, index)
        })
        // no accepted persisted entry lost
        for (const id of acceptedCritical) expect(firstDelivery.has(id)).toBe(true)
        // FIFO per peer among delivered entries
        for (const ids of sentOrder.values()) {
          const positions = ids
            .filter((id) => firstDelivery.has(id))
            .map((id) => firstDelivery.get(id) as number)
          expect(positions).toEqual([...positions].sort((a, b) => a - b))
        }
        // moderate: first try + 3 retries at most
        for (const id of moderate)
          expect(world.calls.filter((call) => call.id === id).length).toBeLessThanOrEqual(4)
        // nothing delivered after it was abandoned
        for (const [id, at] of abandonedAt) {
          expect(
            world.calls.slice(at).some((call) => call.id === id && call.outcome === 'up')
          ).toBe(false)
        }
        await outbox.stop()
      }),
      { numRuns: 150 }
    )
  })
})

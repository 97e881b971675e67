import type fc from 'fast-check'
import type { SendStatus } from '../../src/pending-entry.js'
import type { Model, ModelMessage } from './model.js'
import type { Incarnation, World } from './world.js'

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, index) => byte === b[index])
}

/** The system under test: the world and the process's current incarnation. */
export interface Real {
  world: World
  current: Incarnation
  perPeerConcurrency: number
  /** Sends and flushes of the current incarnation not settled yet. */
  unsettled: Set<Promise<unknown>>
}

export type Command = fc.AsyncCommand<Model, Real>

/** Lets every timer due now fire and every promise chain run, then checks memory (and disk when quiet). */
export async function step(model: Model, real: Real): Promise<void> {
  await real.world.clock.advance(0)
  model.raise()
  model.checkMemory(real.current)
  const { store, outbox } = real.current
  if (store.mode === 'healthy' && store.hanging === 0 && outbox.stats().pendingWrites === 0) {
    model.checkDisk(await store.contents())
  }
  model.raise()
}

export function track(real: Real, promise: Promise<unknown>): void {
  const settled = promise.then(
    () => {},
    () => {}
  )
  real.unsettled.add(promise)
  void settled.then(() => real.unsettled.delete(promise))
}

export function pick(model: Model, index: number): ModelMessage | undefined {
  const all = Array.from(model.messages.values())
  return all.length === 0 ? undefined : all[index % all.length]
}

/** Whether the outbox still knows this id (queued, in flight, dead, or delivered in this life). */
export function known(model: Model, message: ModelMessage): boolean {
  return (
    message.status === 'sending' ||
    message.status === 'queued' ||
    message.status === 'dead' ||
    (message.status === 'delivered' &&
      (message.deliveredIn === model.incarnation || message.replyPending === true))
  )
}

export const KNOWN_ANSWER: Partial<Record<ModelMessage['status'], SendStatus>> = {
  queued: 'queued',
  dead: 'abandoned',
  delivered: 'delivered'
}

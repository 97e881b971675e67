import type { Outbox } from '@dntkit/core'
import { describe, expect, it } from 'vitest'
import { DntMetrics } from '../src/dnt-metrics.js'
import { recordingMetrics } from './metrics-recorder.js'

/** An event target standing in for the outbox's events. */
function events() {
  const target = new EventTarget()
  return {
    outbox: target as unknown as Outbox,
    emit: (type: string, detail: unknown) => target.dispatchEvent(new CustomEvent(type, { detail }))
  }
}

describe('dntkit_reaction_latency_seconds', () => {
  it('one reaction per outage: a second report of the peer (identify after connect) while it drains is not another', () => {
    const metrics = recordingMetrics()
    const recorder = new DntMetrics(metrics)
    const { outbox, emit } = events()
    let queued = 3
    const detach = recorder.attach(outbox, () => queued > 0)
    const delivered = () => {
      queued--
      emit('delivered', { entry: { peer: 'P' } })
    }
    emit('attempt-failed', { peer: 'P' })
    emit('peer-reachable', { peer: 'P' }) // peer:connect
    delivered()
    emit('peer-reachable', { peer: 'P' }) // peer:identify, two entries still queued
    delivered()
    delivered()
    expect(metrics.values.get('dntkit_reaction_latency_seconds')).toHaveLength(1)
    // the next outage is a new reaction
    queued = 1
    emit('attempt-failed', { peer: 'P' })
    emit('peer-reachable', { peer: 'P' })
    delivered()
    expect(metrics.values.get('dntkit_reaction_latency_seconds')).toHaveLength(2)
    detach()
  })
})

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DeliveryRejectedError, PeerUnreachableError } from '../errors.js'
import { rejectUnknownOptions } from '../option-names.js'
import type { Transport } from '../types.js'
import { pseudoRandomBytes, testEntry } from './fixtures.js'

/** Where a test sends: a peer, its addresses and a protocol. */
export interface TransportTarget {
  peer: string
  addrs?: string[]
  protocol: string
}

/** One message as the receiving side of a fixture saw it. */
export interface ReceivedMessage {
  protocol: string
  payload: Uint8Array
}

/** What `setup()` of a transport suite run gives the tests: a transport and peers in each state. */
export interface TransportFixture {
  transport: Transport
  /** A running receiver that accepts everything. */
  reachable: TransportTarget
  /** Resolves once `reachable` has received `count` messages in total; returns them in arrival order. */
  received(count: number): Promise<ReceivedMessage[]>
  /** A peer that is not running (dials are refused). */
  unreachable: TransportTarget
  /** A target whose receiver refuses messages (e.g. its handler throws). */
  rejecting?: TransportTarget
  /** Starts the `unreachable` peer, so that `onReachable` can be observed. */
  bringUp?(): Promise<void>
}

/** How `transportSuite()` makes and removes its fixture. */
export interface TransportSuiteOptions {
  /** Starts the peers and makes the transport under test. */
  setup(): TransportFixture | Promise<TransportFixture>
  /** Stops what `setup` started. */
  teardown?(fixture: TransportFixture): void | Promise<void>
  /** Per-test timeout in ms (default 20,000). */
  timeout?: number
}

/** The `Transport` contract as a vitest suite, run by every transport implementation. */
export function transportSuite(name: string, options: TransportSuiteOptions): void {
  rejectUnknownOptions(options, ['setup', 'teardown', 'timeout'], 'transportSuite()')
  const timeout = options.timeout ?? 20_000
  describe(`Transport contract: ${name}`, { timeout }, () => {
    let fixture: TransportFixture

    beforeEach(async () => {
      fixture = await options.setup()
    })

    afterEach(async () => {
      await options.teardown?.(fixture)
    })

    const signal = (): AbortSignal => AbortSignal.timeout(timeout / 2)

    it('delivers payloads byte for byte, in order (0 bytes, every byte value, 1 MiB)', async () => {
      const payloads = [
        new Uint8Array(0),
        Uint8Array.from({ length: 256 }, (_, index) => index),
        pseudoRandomBytes(1024 * 1024, 3)
      ]
      for (const payload of payloads) {
        await fixture.transport.deliver(testEntry({ ...fixture.reachable, payload }), {
          signal: signal()
        })
      }
      const received = await fixture.received(payloads.length)
      expect(received.map((message) => message.protocol)).toEqual(
        payloads.map(() => fixture.reachable.protocol)
      )
      received.forEach((message, index) => {
        expect(Buffer.from(message.payload).equals(Buffer.from(payloads[index]!))).toBe(true)
      })
    })

    it('throws PeerUnreachableError for a peer that is down', async () => {
      const attempt = fixture.transport.deliver(testEntry({ ...fixture.unreachable }), {
        signal: signal()
      })
      await expect(attempt).rejects.toSatisfy((error: unknown) =>
        PeerUnreachableError.isInstance(error)
      )
    })

    it('rejects when the signal aborts, without delivering', async () => {
      const controller = new AbortController()
      const reason = new Error('test abort')
      controller.abort(reason)
      const aborted = new TextEncoder().encode('aborted before it left')
      const attempt = fixture.transport.deliver(
        testEntry({ ...fixture.reachable, payload: aborted }),
        { signal: controller.signal }
      )
      // the signal's reason itself, or a retryable error that carries it as its cause
      await expect(attempt).rejects.toSatisfy(
        (error: unknown) =>
          error === reason ||
          (PeerUnreachableError.isInstance(error) && (error as Error).cause === reason)
      )
      // the next delivery is the first the receiver sees: the aborted one never arrived
      const marker = new TextEncoder().encode('delivered after the abort')
      await fixture.transport.deliver(testEntry({ ...fixture.reachable, payload: marker }), {
        signal: signal()
      })
      const received = await fixture.received(1)
      expect(received.map((message) => new TextDecoder().decode(message.payload))).toEqual([
        'delivered after the abort'
      ])
    })

    it('throws DeliveryRejectedError when the receiver refuses', async (context) => {
      if (fixture.rejecting == null) return context.skip()
      const attempt = fixture.transport.deliver(testEntry({ ...fixture.rejecting }), {
        signal: signal()
      })
      await expect(attempt).rejects.toSatisfy((error: unknown) =>
        DeliveryRejectedError.isInstance(error)
      )
    })

    it('reports a peer reachable once it comes up', async (context) => {
      if (fixture.bringUp == null || fixture.transport.onReachable == null) return context.skip()
      const seen: string[] = []
      const reachable = new Promise<void>((resolve) => {
        const unsubscribe = fixture.transport.onReachable!((peer) => {
          seen.push(peer)
          if (peer === fixture.unreachable.peer) {
            unsubscribe()
            resolve()
          }
        })
      })
      await fixture.bringUp()
      // the transport learns of the peer when a connection opens
      await fixture.transport.deliver(testEntry({ ...fixture.unreachable }), { signal: signal() })
      await reachable
      expect(seen).toContain(fixture.unreachable.peer)
    })
  })
}

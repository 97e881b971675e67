/**
 * @packageDocumentation
 *
 * Test helpers for dntkit implementations: the `Store` and `Transport`
 * conformance suites (vitest), a manual clock, and entry fixtures.
 *
 * @example
 *
 * ```ts
 * import { storeSuite } from '@dntkit/core/testing'
 * import { memoryStore } from '@dntkit/core'
 *
 * storeSuite('memory', { setup: () => { const store = memoryStore(); return () => store } })
 * ```
 */

export { pseudoRandomBytes, testEntry } from './fixtures.js'
export { type ManualClock, manualClock } from './manual-clock.js'
export { type StoreFactory, type StoreSuiteOptions, storeSuite } from './store-suite.js'
export {
  type ReceivedMessage,
  type TransportFixture,
  type TransportSuiteOptions,
  type TransportTarget,
  transportSuite
} from './transport-suite.js'

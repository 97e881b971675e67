/** The oldest Node.js major version dntkit supports (its packages' `engines`). */
export const OLDEST_SUPPORTED_NODE = 22

/**
 * Installs `Promise.withResolvers` where it is missing (Node 20): libp2p v3
 * calls it. Must run before libp2p is imported.
 */
export function installPromiseWithResolvers(): void {
  const promise = Promise as unknown as { withResolvers?: unknown }
  if (typeof promise.withResolvers === 'function') return
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(this: PromiseConstructor) {
      let resolve!: (value: T | PromiseLike<T>) => void
      let reject!: (reason?: unknown) => void
      const pending = new this<T>((onResolve, onReject) => {
        resolve = onResolve
        reject = onReject
      })
      return { promise: pending, resolve, reject }
    }
  })
}

/**
 * The one line `dnt` prints on stderr when it runs on a Node.js older than the
 * supported one (`version` as in `process.versions.node`), or `undefined` on a
 * supported version.
 */
export function olderNodeNotice(version: string): string | undefined {
  const major = Number.parseInt(version, 10)
  if (!(major < OLDEST_SUPPORTED_NODE)) return undefined
  return (
    `dnt: Node.js ${version} is older than ${OLDEST_SUPPORTED_NODE}, the oldest version dntkit supports; ` +
    'going on with a Promise.withResolvers polyfill (NODE_NO_WARNINGS=1 hides this line)'
  )
}

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

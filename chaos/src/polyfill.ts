/**
 * libp2p v3 calls `Promise.withResolvers`, which Node 20 lacks. The chaos
 * actors and the vitest run install it at their entry point; the libraries
 * never patch globals.
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

installPromiseWithResolvers()

// libp2p v3 calls Promise.withResolvers, which Node 20 lacks. An application
// installs it once, before libp2p is loaded: import this module first.
// It imports nothing, so it runs before the modules imported after it.
const promise = Promise as unknown as { withResolvers?: unknown }
if (typeof promise.withResolvers !== 'function') {
  promise.withResolvers = function withResolvers<T>() {
    let resolve!: (value: T | PromiseLike<T>) => void
    let reject!: (reason?: unknown) => void
    const created = new Promise<T>((onResolve, onReject) => {
      resolve = onResolve
      reject = onReject
    })
    return { promise: created, resolve, reject }
  }
}

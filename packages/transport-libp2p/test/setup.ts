// libp2p v3 calls Promise.withResolvers, which Node 20 lacks. Applications and
// tests may install it; the library itself never patches globals.
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

/**
 * libp2p v3 calls `Promise.withResolvers`, which Node 20 lacks. An
 * application (here: the bench) may install it at its entry point; the
 * libraries never touch globals.
 */
export function installPolyfills(): void {
  const promise = Promise as unknown as { withResolvers?: unknown }
  if (typeof promise.withResolvers === 'function') return
  promise.withResolvers = function withResolvers<T>() {
    let resolve!: (value: T | PromiseLike<T>) => void
    let reject!: (reason?: unknown) => void
    const created = new Promise<T>((yes, no) => {
      resolve = yes
      reject = no
    })
    return { promise: created, resolve, reject }
  }
}

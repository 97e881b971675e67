// The repository's one Promise.withResolvers polyfill (see CONTRIBUTING.md, "Node versions").
// libp2p v3 calls Promise.withResolvers, which Node 20 lacks. The libraries never patch
// globals; every process this repository starts through pnpm (tests, bench, chaos actors, the
// in-repo examples) loads this module first, through `nodeOptions` in pnpm-workspace.yaml
// (NODE_OPTIONS=--import=@dntkit-tools/polyfill). It imports nothing and does nothing on
// Node >= 22. The published CLI's binary bundles this file (packages/cli/src/bin.ts imports
// it); copied-out examples need none: they declare node >= 22.
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers() {
      let resolve
      let reject
      const promise = new this((onResolve, onReject) => {
        resolve = onResolve
        reject = onReject
      })
      return { promise, resolve, reject }
    }
  })
}

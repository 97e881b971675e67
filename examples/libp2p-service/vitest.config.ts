import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    // Node 20 lacks Promise.withResolvers, which libp2p v3 calls
    setupFiles: ['src/polyfill.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000
  }
})

import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    // Node 20 lacks Promise.withResolvers, which libp2p v3 calls
    setupFiles: ['src/polyfill.ts'],
    // the scenarios load both cores with processes: one file at a time
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 60_000
  }
})

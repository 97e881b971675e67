import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    // the scenarios load both cores with processes: one file at a time
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 60_000
  }
})

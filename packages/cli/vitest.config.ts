import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    // the binaries the tests start inherit it: on Node 20 they would each print the
    // one-line "older than 22" notice (test/node-version.spec.ts checks that line)
    env: { NODE_NO_WARNINGS: '1' },
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})

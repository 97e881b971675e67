import { defineConfig } from 'vite'

export default defineConfig({
  // 127.0.0.1 (like localhost) is a secure context: IndexedDB and Web Locks are there
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  build: { target: 'es2022' }
})

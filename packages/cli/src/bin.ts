#!/usr/bin/env node
import { installPromiseWithResolvers } from './polyfill.js'

// Node 20 lacks Promise.withResolvers, which libp2p v3 needs. It is installed
// before anything imports libp2p: static imports are hoisted, so the command
// itself is loaded with a dynamic import, after the polyfill ran.
installPromiseWithResolvers()
const { main } = await import('./main.js')
await main(process.argv.slice(2))

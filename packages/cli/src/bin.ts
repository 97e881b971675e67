#!/usr/bin/env node
import { installPromiseWithResolvers, olderNodeNotice } from './polyfill.js'

// Node 20 lacks Promise.withResolvers, which libp2p v3 needs: say so in one line, then
// install it before anything imports libp2p. Static imports are hoisted, so the command
// itself is loaded with a dynamic import, after the polyfill ran.
const notice = olderNodeNotice(process.versions.node)
if (notice !== undefined && process.env.NODE_NO_WARNINGS !== '1')
  process.stderr.write(`${notice}\n`)
installPromiseWithResolvers()
const { main } = await import('./main.js')
await main(process.argv.slice(2))

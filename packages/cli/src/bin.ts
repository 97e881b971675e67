#!/usr/bin/env node
// Node 20 lacks Promise.withResolvers, which libp2p v3 needs: the repository's one polyfill
// (tools/polyfill, bundled into this file at build time) installs it on import, before
// anything imports libp2p; the command itself is loaded with a dynamic import, after it ran.
// On an older Node the binary says so in one line.
import '@dntkit-tools/polyfill'
import { olderNodeNotice } from './node-version.js'

const notice = olderNodeNotice(process.versions.node)
if (notice !== undefined && process.env.NODE_NO_WARNINGS !== '1')
  process.stderr.write(`${notice}\n`)
const { main } = await import('./main.js')
await main(process.argv.slice(2))

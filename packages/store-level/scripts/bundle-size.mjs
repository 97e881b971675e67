// Bundles what a browser app imports from @dntkit/store-level (and, for comparison, from
// @dntkit/core alone) with esbuild for the browser, as a user's bundler would: the package's
// `browser` export condition, no polyfills, no externals. Prints minified and gzip sizes.
//   node scripts/bundle-size.mjs          a table for the README
//   node scripts/bundle-size.mjs --json   the same figures as JSON
// Needs dist/ (pnpm run build): the package is bundled as published.
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const packageRoot = fileURLToPath(new URL('..', import.meta.url))

/** What each measured bundle imports: the code an app of that shape pulls in. */
export const SCENARIOS = [
  {
    name: 'core: Outbox + memoryStore',
    contents: `import { Outbox, defaultPreset, memoryStore } from '@dntkit/core'
      globalThis.dnt = { Outbox, defaultPreset, memoryStore }`
  },
  {
    name: 'core + store-level (IndexedDB, Web Locks)',
    contents: `import { Outbox, defaultPreset } from '@dntkit/core'
      import { levelStore } from '@dntkit/store-level'
      globalThis.dnt = { Outbox, defaultPreset, levelStore }`
  }
]

/**
 * Bundles `contents` for the browser. Resolves to the minified and gzip
 * sizes and the packages the bundle holds (from esbuild's metafile).
 */
export async function bundleForBrowser(contents) {
  const result = await build({
    stdin: { contents, resolveDir: packageRoot, sourcefile: 'app.js', loader: 'js' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent'
  })
  const code = result.outputFiles[0].contents
  // minified bytes per package (workspace packages by their folder), from the output's metafile
  const packages = {}
  const [output] = Object.values(result.metafile.outputs)
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const match =
      /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(input) ??
      /\/packages\/([^/]+)\//.exec(resolve(process.cwd(), input))
    const name = match?.[1] ?? input
    packages[name] = (packages[name] ?? 0) + bytesInOutput
  }
  return {
    minified: code.byteLength,
    gzip: gzipSync(code, { level: 9 }).byteLength,
    packages,
    warnings: result.warnings.map((warning) => warning.text)
  }
}

/** Every scenario, measured. */
export async function measureAll() {
  const figures = []
  for (const scenario of SCENARIOS) {
    figures.push({ name: scenario.name, ...(await bundleForBrowser(scenario.contents)) })
  }
  return figures
}

const kilobytes = (bytes) => `${(bytes / 1024).toFixed(1)} KB`

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const figures = await measureAll()
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`)
  } else {
    console.log('| bundle (esbuild, browser, minified) | minified | gzip |')
    console.log('|---|---|---|')
    for (const figure of figures) {
      console.log(`| ${figure.name} | ${kilobytes(figure.minified)} | ${kilobytes(figure.gzip)} |`)
    }
    const [core, level] = figures
    console.log(
      `\nstore-level adds ${kilobytes(level.minified - core.minified)} minified, ${kilobytes(level.gzip - core.gzip)} gzip`
    )
    const parts = Object.entries(level.packages).sort(([, a], [, b]) => b - a)
    console.log('minified bytes by package in the store-level bundle:')
    for (const [name, bytes] of parts) console.log(`  ${name}: ${kilobytes(bytes)}`)
  }
}

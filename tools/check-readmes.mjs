// Every TypeScript code block of every README (root, packages/*, examples/*) is compiled as a
// user would compile it: against the packed packages installed with npm, strict, with the
// `lib` and `types` the README names, and without skipLibCheck for dntkit's own declarations
// (errors in other packages' declarations are counted, not failed: we cannot fix them).
// Blocks that are whole programs are then run, each in a folder of its own that holds only
// `node.key` (made by the packed CLI's `dnt keygen --out node.key`, as the READMEs tell a user
// to do first), and must exit 0.
//
// Markers (an HTML comment on the lines right before a block's fence):
//   <!-- check: compile-only, why it is not run -->   type-checked only
//   <!-- check: skip, why it is not TypeScript a user compiles -->
//   Lines after the first line of a marker are a hidden prelude, compiled in front of the
//   block (imports and `declare const` of what a fragment takes from its context).
//   A block without a marker is a whole program: compiled and run.
// Once per README: <!-- check-env: lib=ES2022,DOM types=node --> (the default), the
// compiler settings its text names.
//
// Usage: pnpm run check:readmes [--no-run] [--verbose] [README ...]   (running needs Node >= 22)
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { builtinModules, createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { examples, finish, outsideEnvironment, packAll, ROOT, run } from './workspace.mjs'

const DEFAULT_ENV = { lib: ['ES2022', 'DOM'], types: ['node'] }
const RUN_TIMEOUT = 120_000

const argv = process.argv.slice(2)
const compileOnly = argv.includes('--no-run')
const verbose = argv.includes('--verbose')
const chosen = argv.filter((argument) => !argument.startsWith('--'))
if (!compileOnly && Number.parseInt(process.versions.node, 10) < 22) {
  console.error(
    `check-readmes: README programs need Node.js >= 22 to run (this is ${process.versions.node}); put Node 22 or newer first on PATH, or pass --no-run`
  )
  process.exit(2)
}

function readmes() {
  if (chosen.length > 0) return chosen.map((file) => relative(ROOT, join(process.cwd(), file)))
  const list = ['README.md']
  for (const folder of readdirSync(join(ROOT, 'packages')).sort())
    list.push(`packages/${folder}/README.md`)
  list.push('examples/README.md')
  for (const name of examples()) list.push(`examples/${name}/README.md`)
  return list.filter((file) => {
    try {
      readFileSync(join(ROOT, file))
      return true
    } catch {
      return false
    }
  })
}

/** The TypeScript blocks of one README, with their markers and environment. */
function parseReadme(file, problems) {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n')
  const environment = { ...DEFAULT_ENV }
  const blocks = []
  for (let index = 0; index < lines.length; index++) {
    const envMatch = /^<!--\s*check-env:(.*)-->\s*$/.exec(lines[index])
    if (envMatch) {
      for (const setting of envMatch[1].trim().split(/\s+/)) {
        const [name, value = ''] = setting.split('=')
        if (name !== 'lib' && name !== 'types')
          problems.push(`${file}:${index + 1}: unknown check-env setting ${name}`)
        environment[name] = value === '' ? [] : value.split(',')
      }
    }
    const fence = /^```(\w*)\s*$/.exec(lines[index])
    if (!fence) continue
    const language = fence[1]
    const start = index
    let end = index + 1
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++
    if (language === 'ts' || language === 'typescript') {
      const marker = markerBefore(lines, start)
      let mode = 'run'
      let prelude = ''
      if (marker) {
        const [first, ...rest] = marker.split('\n')
        const match = /^check:\s*(compile-only|skip|run)\s*(?:,\s*(.*))?$/.exec(first.trim())
        if (!match) problems.push(`${file}:${start + 1}: unreadable marker "${first.trim()}"`)
        else {
          mode = match[1]
          if (mode !== 'run' && !match[2]?.trim())
            problems.push(`${file}:${start + 1}: a "${mode}" marker says why`)
        }
        prelude = rest.join('\n')
      }
      blocks.push({
        file,
        line: start + 2,
        code: lines.slice(start + 1, end).join('\n'),
        mode,
        prelude
      })
    }
    index = end
  }
  return { environment, blocks }
}

/** The HTML comment that ends on the line before `fence` (blank lines allowed), if any. */
function markerBefore(lines, fence) {
  let last = fence - 1
  while (last >= 0 && lines[last].trim() === '') last--
  if (last < 0 || !lines[last].trim().endsWith('-->')) return undefined
  let first = last
  while (first >= 0 && !lines[first].includes('<!--')) first--
  if (first < 0) return undefined
  const text = lines.slice(first, last + 1).join('\n')
  const body = text.slice(text.indexOf('<!--') + 4, text.lastIndexOf('-->')).trim()
  return body.startsWith('check:') ? body : undefined
}

function packageName(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('node:')) return undefined
  const name = specifier.startsWith('@')
    ? specifier.split('/').slice(0, 2).join('/')
    : specifier.split('/')[0]
  return builtinModules.includes(name) ? undefined : name
}

/** The version range the workspace itself uses for `name` (so READMEs stay on tested versions). */
function workspaceRanges() {
  const ranges = {}
  const manifests = [join(ROOT, 'package.json')]
  for (const group of ['packages', 'examples']) {
    for (const folder of readdirSync(join(ROOT, group)))
      manifests.push(join(ROOT, group, folder, 'package.json'))
  }
  for (const file of manifests) {
    let manifest
    try {
      manifest = JSON.parse(readFileSync(file, 'utf8'))
    } catch {
      continue
    }
    for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
      for (const [name, range] of Object.entries(manifest[field] ?? {})) {
        if (!String(range).startsWith('workspace:') && ranges[name] === undefined)
          ranges[name] = range
      }
    }
  }
  return ranges
}

const problems = []
const parsed = readmes().map((file) => ({ file, ...parseReadme(file, problems) }))
const blocks = parsed.flatMap((readme) =>
  readme.blocks.map((block) => ({ ...block, environment: readme.environment }))
)
const checked = blocks.filter((block) => block.mode !== 'skip')
const scratch = mkdtempSync(join(tmpdir(), 'dntkit-readmes-'))
const started = Date.now()
let thirdParty = 0
let ran = 0
try {
  // a project as a user makes one: the packed packages, and what the READMEs import besides
  const packed = await packAll(join(scratch, 'packed'))
  const tarballs = Object.fromEntries(packed.map((entry) => [entry.name, `file:${entry.tarball}`]))
  const ranges = workspaceRanges()
  const dependencies = { ...tarballs }
  for (const block of checked) {
    const source = `${block.prelude}\n${block.code}`
    for (const [, specifier] of source.matchAll(
      /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g
    )) {
      const name = packageName(specifier)
      if (name === undefined || dependencies[name]) continue
      if (ranges[name] === undefined) {
        problems.push(
          `${block.file}:${block.line}: imports ${name}, which no package of the workspace depends on`
        )
        continue
      }
      dependencies[name] = ranges[name]
    }
  }
  const project = join(scratch, 'project')
  mkdirSync(join(project, 'blocks'), { recursive: true })
  const devDependencies = {
    typescript: ranges.typescript,
    tsx: ranges.tsx,
    '@types/node': '^22.20.7'
  }
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'readme-check', private: true, type: 'module', dependencies, devDependencies, overrides: tarballs }, null, 2)}\n`
  )
  const environment = outsideEnvironment({ CI: 'true', npm_config_update_notifier: 'false' })
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: project,
    env: environment,
    timeout: 600_000
  })

  // one file per block; one program per environment
  const ts = createRequire(join(project, 'package.json'))('typescript')
  const byEnvironment = new Map()
  checked.forEach((block, index) => {
    block.path = join(
      project,
      'blocks',
      `${block.file.replace(/[/.]/g, '_')}_${block.line}_${index}.ts`
    )
    block.preludeLines = block.prelude === '' ? 0 : block.prelude.split('\n').length
    writeFileSync(
      block.path,
      block.prelude === '' ? `${block.code}\n` : `${block.prelude}\n${block.code}\n`
    )
    const key = JSON.stringify(block.environment)
    if (!byEnvironment.has(key)) byEnvironment.set(key, [])
    byEnvironment.get(key).push(block)
  })
  const byPath = new Map(checked.map((block) => [block.path, block]))
  for (const [key, group] of byEnvironment) {
    const { lib, types } = JSON.parse(key)
    const options = {
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: lib.map((name) => `lib.${name.toLowerCase()}.d.ts`),
      types,
      isolatedModules: true,
      moduleDetection: ts.ModuleDetectionKind.Force,
      verbatimModuleSyntax: false,
      noUncheckedIndexedAccess: false
    }
    const program = ts.createProgram({ rootNames: group.map((block) => block.path), options })
    for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
      const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n').split('\n')[0]
      const fileName = diagnostic.file?.fileName
      const block = fileName === undefined ? undefined : byPath.get(fileName)
      if (block !== undefined) {
        const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0)
        const at =
          line < block.preludeLines
            ? `${block.line - 1} (in the marker's prelude)`
            : block.line + line - block.preludeLines
        problems.push(`${block.file}:${at}: TS${diagnostic.code}: ${text}`)
      } else if (fileName === undefined || /node_modules\/@dntkit\//.test(fileName)) {
        problems.push(
          `${fileName ? relative(project, fileName) : 'compiler'} (lib ${lib.join(',')}, types ${types.join(',') || 'none'}): TS${diagnostic.code}: ${text}`
        )
      } else {
        thirdParty++
      }
    }
  }
  console.log(
    `readmes: ${checked.length} blocks type-checked in ${byEnvironment.size} environment(s)`
  )

  if (!compileOnly) {
    for (const block of checked.filter((candidate) => candidate.mode === 'run')) {
      const folder = mkdtempSync(join(scratch, 'run-'))
      const begun = Date.now()
      try {
        // the key file the READMEs tell a user to make first (`dnt keygen --out node.key`)
        await run(
          join(project, 'node_modules', '.bin', 'dnt'),
          ['keygen', '--out', join(folder, 'node.key')],
          { cwd: folder, env: environment, timeout: RUN_TIMEOUT }
        )
        const output = await run(join(project, 'node_modules', '.bin', 'tsx'), [block.path], {
          cwd: folder,
          env: environment,
          timeout: RUN_TIMEOUT
        })
        ran++
        console.log(`${block.file}:${block.line}: ran, exit 0 (${Date.now() - begun} ms)`)
        if (verbose) console.log(output.replace(/^/gm, '  | '))
      } catch (error) {
        problems.push(`${block.file}:${block.line}: the program failed: ${error.message}`)
      }
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
const skipped = blocks.length - checked.length
finish(
  problems,
  `readmes: ${blocks.length} TypeScript blocks in ${parsed.length} READMEs: ${checked.length} type-checked, ${compileOnly ? 'none run (--no-run)' : `${ran} run`}, ${skipped} skipped by their marker; ${thirdParty} diagnostics in other packages' declarations ignored (${Math.round((Date.now() - started) / 1000)} s)`
)

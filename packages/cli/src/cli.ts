import { createRequire } from 'node:module'
import { defaultLogger } from '@dntkit/core'
import { parseFlags } from './arguments.js'
import type { CliIo } from './command.js'
import { commands } from './commands/index.js'
import { DEBUG_VARIABLE, EXIT_OK, EXIT_USAGE, LOGGER_NAME } from './constants.js'
import { errorLine, exitCodeOf } from './errors.js'
import { keyFileWarning } from './file-permissions.js'
import { commandHelp, mainHelp } from './help.js'

/** The version in this package's package.json. */
export function version(): string {
  try {
    return (createRequire(import.meta.url)('../package.json') as { version: string }).version
  } catch {
    return 'unknown'
  }
}

function stackOf(error: unknown): string {
  const lines: string[] = []
  let current: unknown = error
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    lines.push(depth === 0 ? String(current.stack) : `caused by: ${current.stack}`)
    current = current.cause
  }
  return lines.join('\n')
}

/**
 * Runs one `dnt` command line and resolves to its exit code. Errors are
 * printed as one line on stderr (`dnt COMMAND: what is wrong`); with
 * `DNT_DEBUG=1` the stack follows.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv
  const specs = commands.map((command) => command.spec)
  if (name === '--help' || name === '-h') {
    io.stdout.write(mainHelp(specs, version()))
    return EXIT_OK
  }
  if (name === undefined) {
    io.stderr.write(mainHelp(specs, version()))
    return EXIT_USAGE
  }
  if (name === '--version') {
    io.stdout.write(`${version()}\n`)
    return EXIT_OK
  }
  if (name === 'help') {
    const topic = commands.find((command) => command.spec.name === rest[0])
    io.stdout.write(topic === undefined ? mainHelp(specs, version()) : commandHelp(topic.spec))
    return EXIT_OK
  }
  const command = commands.find((candidate) => candidate.spec.name === name)
  if (command === undefined) {
    io.stderr.write(`dnt: unknown command "${name}" (run "dnt --help")\n`)
    return EXIT_USAGE
  }
  try {
    const flags = parseFlags(command.spec, rest)
    if (flags.help === true) {
      io.stdout.write(commandHelp(command.spec))
      return EXIT_OK
    }
    const key = flags.key
    const warning = typeof key === 'string' ? keyFileWarning(key) : undefined
    if (warning !== undefined) io.stderr.write(`dnt ${name}: ${warning}\n`)
    const loaded = await command.load()
    return await loaded.run({ io, flags, log: defaultLogger(LOGGER_NAME) })
  } catch (error) {
    io.stderr.write(`dnt ${name}: ${errorLine(error)}\n`)
    if (io.env[DEBUG_VARIABLE] === '1') io.stderr.write(`${stackOf(error)}\n`)
    return exitCodeOf(error)
  }
}

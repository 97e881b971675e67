import type { Logger } from '@dntkit/core'
import type { CommandSpec, ParsedFlags } from './arguments.js'

/** Where a command writes, what it reads from the environment, and when it must stop. */
export interface CliIo {
  /** Where results go (`--json` output included). */
  stdout: {
    /** Writes `text` as is (lines end with `\n`). */
    write(text: string): unknown
    isTTY?: boolean
  }
  /** Where status lines, warnings and errors go; progress is shown when it is a TTY. */
  stderr: {
    /** Writes `text` as is (lines end with `\n`). */
    write(text: string): unknown
    isTTY?: boolean
    columns?: number
  }
  env: Record<string, string | undefined>
  /** What `--jsonl -` reads. */
  stdin?: AsyncIterable<Uint8Array>
  /** Aborted on SIGINT / SIGTERM: long-running commands end cleanly. */
  signal: AbortSignal
}

/** What a command's `run` gets. */
export interface CommandContext {
  io: CliIo
  flags: ParsedFlags
  log: Logger
}

/** One `dnt` command: its flags and help, and what it does; resolves to the exit code. */
export interface Command {
  spec: CommandSpec
  run(context: CommandContext): Promise<number>
}

/** Prints one line to stdout. */
export function say(io: CliIo, text = ''): void {
  io.stdout.write(`${text}\n`)
}

/** Prints one line to stderr (status, warnings: never mixed into `--json` or JSONL output). */
export function note(io: CliIo, text: string): void {
  io.stderr.write(`${text}\n`)
}

/** Prints a value as one JSON document on stdout. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

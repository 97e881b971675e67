import { parseArgs } from 'node:util'
import { UsageError } from './errors.js'

/** One flag of a command. */
export interface FlagSpec {
  type: 'string' | 'boolean'
  /** May be given several times; `--id A B C` is read as `--id A --id B --id C`. */
  multiple?: boolean
  required?: boolean
  /** Name of the value in help text, e.g. `FILE`. */
  value?: string
  /** Single-letter alias. */
  short?: string
  description: string
}

/** What a command accepts, and the text of its `--help`. */
export interface CommandSpec {
  name: string
  summary: string
  /** The synopsis after `dnt NAME`. */
  usage: string
  flags: Record<string, FlagSpec>
  /** Paragraphs printed after the flags in `--help`. */
  details?: string
}

export type FlagValue = string | boolean | string[] | undefined
export type ParsedFlags = Record<string, FlagValue>

interface OptionToken {
  kind: 'option'
  name: string
  rawName: string
  index: number
  value?: string
  inlineValue?: boolean
}

interface PositionalToken {
  kind: 'positional'
  index: number
  value: string
}

type Token = OptionToken | PositionalToken | { kind: 'option-terminator'; index: number }

const HELP_FLAG: FlagSpec = { type: 'boolean', short: 'h', description: 'show this help' }

/** The flags of `spec` plus `--help`. */
export function flagsOf(spec: CommandSpec): Record<string, FlagSpec> {
  return { ...spec.flags, help: HELP_FLAG }
}

function flagName(message: string): string | undefined {
  return /'(-{1,2}[^' ,]+)/.exec(message)?.[1]
}

function translate(error: unknown, spec: CommandSpec): UsageError {
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: unknown }).code
  const hint = `run "dnt ${spec.name} --help"`
  const flag = flagName(message)
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    return new UsageError(`unknown flag ${flag ?? message} (${hint})`)
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const name = flag?.startsWith('--') ? flag : `--${flag?.replace(/^-/, '') ?? '?'}`
    if (message.includes('does not take an argument'))
      return new UsageError(`flag ${name} takes no value`)
    const found = flagsOf(spec)[name.slice(2)]
    return new UsageError(`flag ${name} needs a value${found?.value ? ` (${found.value})` : ''}`)
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    return new UsageError(`unexpected argument ${/'([^']*)'/.exec(message)?.[1] ?? ''} (${hint})`)
  }
  return new UsageError(`${message} (${hint})`)
}

/**
 * Parses `argv` strictly against `spec`: unknown flags, missing values, a flag
 * given twice, a stray argument and a missing required flag all throw a
 * `UsageError` naming the flag. Values after a repeatable flag belong to it.
 */
export function parseFlags(spec: CommandSpec, argv: string[]): ParsedFlags {
  const flags = flagsOf(spec)
  const options: Record<
    string,
    { type: 'string' | 'boolean'; multiple?: boolean; short?: string }
  > = {}
  for (const [name, flag] of Object.entries(flags)) {
    options[name] = { type: flag.type }
    if (flag.multiple) options[name].multiple = true
    if (flag.short) options[name].short = flag.short
  }
  let parsed: { values: Record<string, FlagValue>; tokens?: Token[] }
  try {
    parsed = parseArgs({
      args: argv,
      options,
      strict: true,
      allowPositionals: true,
      tokens: true
    }) as never
  } catch (error) {
    throw translate(error, spec)
  }
  const values: ParsedFlags = { ...parsed.values }
  const seen = new Set<string>()
  let previous: OptionToken | undefined
  for (const token of parsed.tokens ?? []) {
    if (token.kind === 'option') {
      const flag = flags[token.name] as FlagSpec
      if (seen.has(token.name) && !flag.multiple) {
        throw new UsageError(`flag --${token.name} is given more than once`)
      }
      // repeatable flags are rebuilt in command-line order, stray values included
      if (flag.multiple && !seen.has(token.name)) values[token.name] = []
      if (flag.multiple) (values[token.name] as string[]).push(token.value as string)
      seen.add(token.name)
      previous = token
    } else if (token.kind === 'positional') {
      const owner = previous === undefined ? undefined : flags[previous.name]
      if (previous === undefined || owner?.multiple !== true || owner.type !== 'string') {
        throw new UsageError(`unexpected argument "${token.value}" (run "dnt ${spec.name} --help")`)
      }
      ;(values[previous.name] as string[]).push(token.value)
    } else {
      throw new UsageError(`unexpected "--" (run "dnt ${spec.name} --help")`)
    }
  }
  if (values.help === true) return values
  for (const [name, flag] of Object.entries(spec.flags)) {
    if (flag.required && values[name] === undefined) {
      throw new UsageError(`missing required flag --${name}${flag.value ? ` ${flag.value}` : ''}`)
    }
  }
  return values
}

/** The string value of a flag (throws if the spec says otherwise: a programming error). */
export function stringFlag(values: ParsedFlags, name: string): string | undefined {
  const value = values[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new TypeError(`flag --${name} is not a single string`)
  return value
}

/** A required string flag (parseFlags already checked it is there). */
export function requiredFlag(values: ParsedFlags, name: string): string {
  const value = stringFlag(values, name)
  if (value === undefined) throw new UsageError(`missing required flag --${name}`)
  return value
}

/** The values of a repeatable flag. */
export function listFlag(values: ParsedFlags, name: string): string[] {
  const value = values[name]
  if (value === undefined) return []
  return Array.isArray(value) ? value : [String(value)]
}

/** `--wait SECONDS`: a number of seconds >= 0, at most `max`. Returns milliseconds. */
export function secondsFlag(values: ParsedFlags, name: string, max: number): number | undefined {
  const text = stringFlag(values, name)
  if (text === undefined) return undefined
  const seconds = Number(text)
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds < 0 || seconds > max) {
    throw new UsageError(
      `flag --${name} expects a number of seconds from 0 to ${max}, got "${text}"`
    )
  }
  return Math.round(seconds * 1000)
}

/** Exactly one of `names` must be given; returns which. */
export function oneOf(values: ParsedFlags, names: string[]): string {
  const given = names.filter((name) => values[name] !== undefined && values[name] !== false)
  const list = names.map((name) => `--${name}`).join(', ')
  if (given.length === 0) throw new UsageError(`one of ${list} is required`)
  if (given.length > 1) {
    throw new UsageError(
      `only one of ${list} may be given, got ${given.map((name) => `--${name}`).join(' and ')}`
    )
  }
  return given[0] as string
}

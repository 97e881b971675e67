import { type CommandSpec, flagsOf } from './arguments.js'

/** The `--help` text of one command. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [
    `dnt ${spec.name}: ${spec.summary}`,
    '',
    `Usage: dnt ${spec.name} ${spec.usage}`.trimEnd(),
    ''
  ]
  const flags = Object.entries(flagsOf(spec)).map(([name, flag]) => {
    const short = flag.short ? `-${flag.short}, ` : ''
    const value = flag.value ? ` ${flag.value}` : ''
    const repeat = flag.multiple ? ' ...' : ''
    const required = flag.required ? ' (required)' : ''
    return { left: `  ${short}--${name}${value}${repeat}`, right: `${flag.description}${required}` }
  })
  if (flags.length > 0) {
    const width = Math.max(...flags.map((flag) => flag.left.length)) + 2
    lines.push('Flags:')
    for (const flag of flags) lines.push(`${flag.left.padEnd(width)}${flag.right}`)
  }
  if (spec.details) lines.push('', spec.details.trim())
  return `${lines.join('\n')}\n`
}

/** `dnt --help`: every command with its summary. */
export function mainHelp(commands: CommandSpec[], version: string): string {
  const width = Math.max(...commands.map((command) => command.name.length)) + 4
  return [
    `dnt ${version}: Disconnection Network Tolerance for libp2p nodes (dntkit)`,
    '',
    'Usage: dnt COMMAND [flags]    (dnt COMMAND --help for its flags)',
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}${command.summary}`),
    '',
    "Store URIs: memory:, file:DIR, level:DIR, oc-discovery:FILE (the Go original's dnt_cache.bin).",
    'Keys: the libp2p protobuf key `dnt keygen` writes, or a PKCS#8 PEM Ed25519 key.',
    'Exit codes: 0 done, 1 failure (store corrupt, wrong key, locked), 2 usage or input error,',
    '3 messages remain queued. DNT_DEBUG=1 adds stack traces; DEBUG=dntkit:* logs.',
    ''
  ].join('\n')
}

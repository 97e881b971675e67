import type { ParsedFlags } from './arguments.js'
import { listFlag, stringFlag } from './arguments.js'
import { UsageError } from './errors.js'
import { readInputFile } from './key-file.js'
import { parsePeerId } from './target.js'

/**
 * The peers `dnt listen` accepts messages from: every `--allow PEER` and
 * every line of `--allow-file FILE` (one peer id a line; blank lines and `#`
 * comments are skipped). Undefined when neither flag is given: everyone is
 * allowed. A value that is not a peer id is a `UsageError` naming the flag,
 * or the file and line.
 */
export function allowList(flags: ParsedFlags): string[] | undefined {
  const given = listFlag(flags, 'allow')
  const file = stringFlag(flags, 'allow-file')
  if (given.length === 0 && file === undefined) return undefined
  const peers = new Set<string>()
  for (const text of given) peers.add(parsePeerId(text.trim(), '--allow'))
  if (file !== undefined) {
    const before = peers.size
    const text = new TextDecoder().decode(readInputFile(file, '--allow-file'))
    let listed = 0
    text.split(/\r?\n/).forEach((raw, index) => {
      const line = raw.replace(/#.*$/, '').trim()
      if (line === '') return
      listed++
      peers.add(parsePeerId(line, `--allow-file ${file} line ${index + 1}`))
    })
    if (listed === 0 && before === 0) {
      throw new UsageError(
        `--allow-file ${file}: no peer id in it (an empty allowlist would refuse everyone)`
      )
    }
  }
  return [...peers]
}

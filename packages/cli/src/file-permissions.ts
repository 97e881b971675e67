import { readFileSync, statSync } from 'node:fs'
import { parsePrivateKey } from '@dntkit/core'
import { KEY_FILE_MODE } from './constants.js'

const octal = (mode: number) => mode.toString(8).padStart(3, '0')

/**
 * A one-line warning when the key file at `path` is readable by its group or
 * others, or undefined. Only a file that is a key is judged (a file that is
 * not one is the command's error to report); never on Windows, which has no
 * POSIX modes. The warning never changes the exit code.
 */
export function keyFileWarning(path: string, flag = '--key'): string | undefined {
  if (process.platform === 'win32') return undefined
  try {
    const stat = statSync(path)
    if (!stat.isFile() || (stat.mode & 0o044) === 0) return undefined
    parsePrivateKey(readFileSync(path))
    return (
      `warning: ${flag} ${path} is readable by group or others (mode ${octal(stat.mode & 0o777)}); ` +
      `it holds the node's identity and the root of its store key: chmod ${octal(KEY_FILE_MODE)} ${path}`
    )
  } catch {
    return undefined
  }
}

import { defaultPreset, definePolicy, NONE, type Policy, type PolicyInit } from '@dntkit/core'
import { UsageError } from './errors.js'
import { readInputFile } from './key-file.js'

/**
 * The policy of `--policy FILE` (JSON, the shape of `PolicyInit`, merged over
 * the default preset; `null` stands for `Infinity`), or the default preset.
 */
export function loadPolicy(path: string | undefined, flag = '--policy'): Policy {
  if (path === undefined) return defaultPreset()
  const text = new TextDecoder().decode(readInputFile(path, flag))
  let init: unknown
  try {
    init = JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${flag} ${path}: not valid JSON (${(error as Error).message})`)
  }
  if (init === null || typeof init !== 'object' || Array.isArray(init)) {
    throw new UsageError(`${flag} ${path}: expected a JSON object with levels, protocols, fallback`)
  }
  const known = new Set([
    'levels',
    'protocols',
    'fallback',
    'flushOnReachable',
    '$schema',
    'description'
  ])
  for (const key of Object.keys(init)) {
    if (!known.has(key)) throw new UsageError(`${flag} ${path}: unknown field "${key}"`)
  }
  // $schema and description document the file; the policy is the rest
  const { $schema, description, ...policy } = init as Record<string, unknown>
  void $schema
  void description
  try {
    return definePolicy(policy as PolicyInit)
  } catch (error) {
    throw new UsageError(`${flag} ${path}: ${(error as Error).message}`)
  }
}

/** Checks that `level` is a level of `policy` (or `none`). */
export function checkLevel(policy: Policy, level: string, where: string): void {
  if (level === NONE || Object.hasOwn(policy.levels, level)) return
  const names = [...Object.keys(policy.levels), NONE].join(', ')
  throw new UsageError(`${where}: unknown level "${level}" (levels: ${names})`)
}

import { statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { UsageError } from './errors.js'

/** A parsed `--store` / `--from` / `--to` store URI. */
export type StoreLocation =
  | { kind: 'memory'; uri: string }
  | { kind: 'file' | 'level' | 'oc-discovery'; uri: string; path: string }

function pathPart(rest: string, uri: string, flag: string): string {
  if (rest.length === 0)
    throw new UsageError(`${flag} "${uri}": the path after the scheme is missing`)
  if (rest.startsWith('//')) {
    try {
      return fileURLToPath(`file:${rest}`)
    } catch (error) {
      throw new UsageError(`${flag} "${uri}": not a valid file URL (${(error as Error).message})`)
    }
  }
  return resolve(rest)
}

/** Parses a store URI: `memory:`, `file:DIR`, `level:DIR` or `oc-discovery:FILE`. */
export function parseStoreUri(uri: string, flag = '--store'): StoreLocation {
  if (uri === 'memory:') return { kind: 'memory', uri }
  for (const kind of ['file', 'level', 'oc-discovery'] as const) {
    if (uri.startsWith(`${kind}:`)) {
      return { kind, uri, path: pathPart(uri.slice(kind.length + 1), uri, flag) }
    }
  }
  throw new UsageError(
    `${flag} "${uri}": unknown store URI; use memory:, file:DIR, level:DIR or oc-discovery:FILE`
  )
}

type PathKind = 'missing' | 'file' | 'directory' | 'other'

function kindOf(path: string): PathKind {
  try {
    const stat = statSync(path)
    return stat.isDirectory() ? 'directory' : stat.isFile() ? 'file' : 'other'
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return 'missing'
    throw new UsageError(`cannot examine ${path}: ${(error as { code?: string }).code ?? error}`)
  }
}

/**
 * Checks a store location before anything opens it: a directory store must
 * not be a file, a file store not a directory, and its parent must be a
 * directory when it is to be created. Returns whether the store exists yet.
 */
export function checkStoreLocation(location: StoreLocation, flag = '--store'): { exists: boolean } {
  if (location.kind === 'memory') return { exists: true }
  const kind = kindOf(location.path)
  const wanted = location.kind === 'oc-discovery' ? 'file' : 'directory'
  if (kind !== 'missing' && kind !== wanted) {
    const found = kind === 'other' ? 'neither a file nor a directory' : `a ${kind}`
    throw new UsageError(`${flag} ${location.uri}: ${location.path} is ${found}, not a ${wanted}`)
  }
  if (kind === 'missing') {
    const parent = kindOf(dirname(location.path))
    if (parent !== 'missing' && parent !== 'directory') {
      throw new UsageError(`${flag} ${location.uri}: ${dirname(location.path)} is not a directory`)
    }
  }
  return { exists: kind !== 'missing' }
}

/**
 * A private copy of a LevelDB directory, for a read-only open: LevelDB cannot
 * open a database without writing to it (its lock, its log and manifest), and
 * a running writer holds the lock. Node's file system is reached through
 * `process.getBuiltinModule`, so that this package imports no `node:` module
 * and stays loadable in a browser (where there is no directory to copy).
 */

/** The few file-system functions used, typed here so that src/ needs no Node types. */
interface NodeFiles {
  mkdtemp(prefix: string): Promise<string>
  readdir(path: string): Promise<string[]>
  readFile(path: string): Promise<Uint8Array>
  copyFile(from: string, to: string): Promise<void>
  stat(path: string): Promise<{ isDirectory(): boolean }>
  rm(path: string, options: { recursive: true; force: true }): Promise<void>
  cp(
    from: string,
    to: string,
    options: { recursive: true; force: false; errorOnExist: true }
  ): Promise<void>
}

interface NodeHost {
  files: NodeFiles
  temporaryDirectory: string
  join(...parts: string[]): string
}

/** How many times a copy is taken again when a writer changed the database meanwhile. */
export const COPY_ATTEMPTS = 5

/** LevelDB's own files that a copy does without. */
const SKIPPED = new Set(['LOCK', 'LOG', 'LOG.old'])

/** Node's file system, or `undefined` in a host without one (a browser). */
export function nodeHost(): NodeHost | undefined {
  const host = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  try {
    const files = host?.getBuiltinModule?.('node:fs') as { promises: NodeFiles } | undefined
    const os = host?.getBuiltinModule?.('node:os') as { tmpdir(): string } | undefined
    const path = host?.getBuiltinModule?.('node:path') as { join(...parts: string[]): string }
    if (files === undefined || os === undefined || path === undefined) return undefined
    return { files: files.promises, temporaryDirectory: os.tmpdir(), join: path.join }
  } catch {
    return undefined
  }
}

function code(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code
}

const decoder = new TextDecoder()

/** A copy of a database, and its removal. */
export interface DatabaseCopy {
  path: string
  remove(): Promise<void>
}

/**
 * Copies the LevelDB database at `location` into a new private temporary
 * directory: `CURRENT` and the manifest it names first, then every other
 * file; taken again when a writer's compaction removed a file meanwhile or
 * `CURRENT` changed. `undefined` when there is no database there (nothing is
 * created). Throws `TypeError` when `location` is not a directory.
 */
export async function copyDatabase(
  host: NodeHost,
  location: string,
  attempts = COPY_ATTEMPTS
): Promise<DatabaseCopy | undefined> {
  const { files, join } = host
  try {
    if (!(await files.stat(location)).isDirectory()) {
      throw new TypeError(`levelStore() option \`location\`: "${location}" is not a directory`)
    }
  } catch (error) {
    if (code(error) === 'ENOENT') return undefined
    throw error
  }
  for (let attempt = 1; ; attempt++) {
    let current: string
    try {
      current = decoder.decode(await files.readFile(join(location, 'CURRENT')))
    } catch (error) {
      // a directory without CURRENT holds no database yet
      if (code(error) === 'ENOENT') return undefined
      throw error
    }
    const manifest = current.trim()
    const path = await files.mkdtemp(join(host.temporaryDirectory, 'dntkit-level-read-'))
    const remove = () => files.rm(path, { recursive: true, force: true })
    try {
      await files.copyFile(join(location, manifest), join(path, manifest))
      for (const name of await files.readdir(location)) {
        if (SKIPPED.has(name) || name === manifest || name === 'CURRENT') continue
        await files.copyFile(join(location, name), join(path, name))
      }
      const after = decoder.decode(await files.readFile(join(location, 'CURRENT')))
      if (after !== current) throw Object.assign(new Error('CURRENT changed'), { code: 'ECHANGED' })
      await files.copyFile(join(location, 'CURRENT'), join(path, 'CURRENT'))
      return { path, remove }
    } catch (error) {
      await remove().catch(() => {})
      const raced = code(error) === 'ENOENT' || code(error) === 'ECHANGED'
      if (!raced || attempt >= attempts) throw error
    }
  }
}

/** Copies `location` whole to `<location>.corrupt-<time>` (for a repair); returns the copy's path. */
export async function keepDatabaseAside(host: NodeHost, location: string): Promise<string> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const target = `${location}.corrupt-${stamp}`
  await host.files.cp(location, target, { recursive: true, force: false, errorOnExist: true })
  return target
}

import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Child processes import the built package: fail clearly when dist/ is missing or older than src/. */
export async function assertDistIsFresh(): Promise<void> {
  const built = await stat(join(root, 'dist/index.js')).catch(() => undefined)
  if (built === undefined) {
    throw new Error(
      'dist/index.js is missing: run `pnpm --filter @dntkit/store-datastore build` first'
    )
  }
  for (const name of await readdir(join(root, 'src'))) {
    const source = await stat(join(root, 'src', name))
    if (source.mtimeMs > built.mtimeMs) {
      throw new Error(
        `dist/ is older than src/${name}: run \`pnpm --filter @dntkit/store-datastore build\` first`
      )
    }
  }
}

export function fixturePath(name: string): string {
  return join(root, 'test/fixtures', name)
}

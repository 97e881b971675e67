/** The oldest Node.js major version dntkit supports (its packages' `engines`). */
export const OLDEST_SUPPORTED_NODE = 22

/**
 * The one line `dnt` prints on stderr when it runs on a Node.js older than the
 * supported one (`version` as in `process.versions.node`), or `undefined` on a
 * supported version.
 */
export function olderNodeNotice(version: string): string | undefined {
  const major = Number.parseInt(version, 10)
  if (!(major < OLDEST_SUPPORTED_NODE)) return undefined
  return (
    `dnt: Node.js ${version} is older than ${OLDEST_SUPPORTED_NODE}, the oldest version dntkit supports; ` +
    'going on with a Promise.withResolvers polyfill (NODE_NO_WARNINGS=1 hides this line)'
  )
}

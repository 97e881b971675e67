/**
 * Throws `TypeError` naming the first own key of `value` that is not in
 * `known` (`<where>: unknown option "<name>"`), so a misspelt option fails at
 * the call instead of leaving a default in place. A key whose value is
 * `undefined` is ignored (spreading optional settings is allowed). Every
 * factory and method of dntkit that takes an options object checks it with
 * this, nested objects included.
 */
export function rejectUnknownOptions(value: object, known: Iterable<string>, where: string): void {
  const names = known instanceof Set ? (known as Set<string>) : new Set(known)
  for (const name of Object.keys(value)) {
    if (!names.has(name) && (value as Record<string, unknown>)[name] !== undefined) {
      throw new TypeError(`${where}: unknown option "${name}"`)
    }
  }
}

/**
 * Checks that `value` is an options object (or `undefined`, for an optional
 * one) whose keys are all in `known`; returns it, or `{}` for `undefined`.
 * `TypeError` naming `where` otherwise.
 */
export function checkOptions<T extends object>(
  value: T | undefined,
  known: Iterable<string>,
  where: string
): T {
  if (value === undefined) return {} as T
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${where} must be an options object`)
  }
  rejectUnknownOptions(value, known, where)
  return value
}

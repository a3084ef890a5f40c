/** Splits a dot path once so hot paths can walk pre-split segments. */
export function splitPath (path: string): readonly string[] {
  return path.split('.')
}

/** Reads a value at pre-split path segments; undefined when any segment is missing. */
export function readPath (value: unknown, segments: readonly string[]): unknown {
  let current: unknown = value
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined
    if (!Object.prototype.hasOwnProperty.call(current, segment)) return undefined
    current = (current as Record<string, unknown>)[segment]
  }
  return current
}

export function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

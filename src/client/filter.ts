import type { Filter } from './types.js'

/** Reads a dot path (`'meta.kind'`) from a record; undefined when any step is missing. */
function readPath (record: unknown, path: string): unknown {
  let current: unknown = record
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined
    current = (current as Record<string, unknown>)[segment]
  }
  return current
}

/**
 * The server's equality matcher, mirrored: the connection receives each event once even when
 * several subscriptions on the resource match, so the client decides which handlers get it.
 */
export function matchesFilter (record: unknown, filter: Filter): boolean {
  for (const [path, value] of Object.entries(filter)) {
    if (readPath(record, path) !== value) return false
  }
  return true
}

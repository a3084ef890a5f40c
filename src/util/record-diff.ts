/*
 * The difference between two versions of a record, as dot paths (delta updates,
 * docs/protocol.md "Delta updates"): `set` holds the new value of every changed path, `unset`
 * the paths that are gone. Nested objects are walked; an array is a value (a changed array is
 * set whole), and so is anything that is not a plain object.
 */

/** What changed between two records: new values by dot path, and the removed dot paths. */
export interface RecordChanges {
  readonly set: Record<string, unknown>
  readonly unset: string[]
}

type Plain = Record<string, unknown>

/**
 * Keys a dot path cannot name without ambiguity ('a.b' as one key), or that a client applying
 * the path must never step into.
 */
function nameable (key: string): boolean {
  return key !== '' && !key.includes('.') && key !== '__proto__' && key !== 'constructor' && key !== 'prototype'
}

function isPlainObject (value: unknown): value is Plain {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function has (object: Plain, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key)
}

/** Deep equality of JSON values (records as they travel). */
export function sameJson (a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const keysA = Object.keys(a)
  if (keysA.length !== Object.keys(b).length) return false
  return keysA.every((key) => has(b as Plain, key) && sameJson((a as Plain)[key], (b as Plain)[key]))
}

/** Adds the changes under `prefix`; false when a changed path cannot be written as a dot path. */
function diffInto (before: Plain, after: Plain, prefix: string, out: { set: Plain, unset: string[] }): boolean {
  for (const key of Object.keys(after)) {
    const next = after[key]
    const had = has(before, key)
    const previous = had ? before[key] : undefined
    if (had && sameJson(previous, next)) continue
    if (!nameable(key)) return false
    const path = prefix + key
    if (had && isPlainObject(previous) && isPlainObject(next)) {
      if (!diffInto(previous, next, path + '.', out)) return false
    } else {
      out.set[path] = next
    }
  }
  for (const key of Object.keys(before)) {
    if (has(after, key)) continue
    if (!nameable(key)) return false
    out.unset.push(prefix + key)
  }
  return true
}

/**
 * The changes that turn `before` into `after`, or null when one of them is under a key a dot
 * path cannot name (a '.' in it, an empty key): the sender then sends the whole record.
 */
export function diffRecords (before: Plain, after: Plain): RecordChanges | null {
  // Paths never name __proto__ (see nameable), so a plain object is safe to fill.
  const out = { set: {} as Plain, unset: [] as string[] }
  return diffInto(before, after, '', out) ? out : null
}

/** No path changed. */
export function noChanges (changes: RecordChanges): boolean {
  return changes.unset.length === 0 && Object.keys(changes.set).length === 0
}

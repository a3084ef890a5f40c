import { isPlainObject } from '../util/paths.js'
import { storedKeyName } from '../util/stored-key-name.js'

const INDEX = /^\d+$/

/**
 * Whether `key` (from segment `i`) reaches `path` (from segment `j`) or something inside it. A
 * number in `key` may be an array index, which protected paths leave out (`items.0.secret`
 * reaches `items.secret`), or an object key the path names itself (`salary.2024`): both are tried.
 */
function reaches (key: readonly string[], i: number, path: readonly string[], j: number): boolean {
  if (j === path.length) return true
  if (i === key.length) return false
  const index = INDEX.test(key[i] as string)
  // Case-insensitively: s3db lowercases the names it flattens (`Profile.PIN` is `profile_pin`).
  if ((key[i] as string).toLowerCase() === (path[j] as string).toLowerCase() && reaches(key, i + 1, path, j + 1)) return true
  return index && reaches(key, i + 1, path, j)
}

/**
 * A resource's protected paths with what the flattening rule needs (see records/stored-names.ts):
 * their stored names, and the resource's declared top-level attributes.
 */
export interface ProtectedNames {
  readonly paths: readonly string[]
  readonly stored: readonly string[]
  readonly declared: ReadonlySet<string> | null
}

export function protectedNames (paths: readonly string[], declared: ReadonlySet<string> | null): ProtectedNames {
  return { paths, stored: [...new Set(paths.map(storedKeyName))], declared }
}

/**
 * A top-level key the resource does not declare is a field s3db flattened (`profile_pin` of a
 * long-form or free-form `profile`): protected when a protected path's stored name is it or
 * contains it (`profile` protected whole hides `profile_pin`, `profile.a` hides `profile_a_b`).
 */
export function flattenedUnderProtected (key: string, names: ProtectedNames): boolean {
  if (key === 'id' || names.declared === null || names.declared.has(key) || names.stored.length === 0) return false
  const name = storedKeyName(key)
  return names.stored.some((stored) => name === stored || name.startsWith(`${stored}_`))
}

/** The protected path `path` reaches (a filter key, say), under any name s3db gives it; or null. */
export function protectedPathOf (path: string, names: ProtectedNames): string | null {
  const reached = protectedPathReached(path, names.paths)
  if (reached !== null) return reached
  const first = path.split('.')[0] as string
  return flattenedUnderProtected(first, names) ? first : null
}

/** The protected path that `path` (a filter key, for example) reaches, through any index; or null. */
export function protectedPathReached (path: string, protectedPaths: readonly string[]): string | null {
  const key = path.split('.')
  return protectedPaths.find((p) => reaches(key, 0, p.split('.'), 0)) ?? null
}

/** Every value stored at `segments`, walking into each element of the arrays on the way. */
function collect (value: unknown, segments: readonly string[], at: number, out: unknown[]): void {
  if (Array.isArray(value)) {
    for (const element of value) collect(element, segments, at, out)
    return
  }
  if (at === segments.length) {
    if (value !== undefined) out.push(value)
    return
  }
  if (!isPlainObject(value)) return
  const key = segments[at] as string
  if (Object.prototype.hasOwnProperty.call(value, key)) collect(value[key], segments, at + 1, out)
  // Other letter cases of the key name the same field once s3db flattens it (`PIN` as `pin`).
  const lower = key.toLowerCase()
  for (const other of Object.keys(value)) {
    if (other !== key && other.toLowerCase() === lower) collect(value[other], segments, at + 1, out)
  }
}

export function valuesAt (record: unknown, path: string): unknown[] {
  const out: unknown[] = []
  collect(record, path.split('.'), 0, out)
  return out
}

/**
 * Whether replacing the value at `replaced` can change `path`: one is at or below the other. A
 * number in `replaced` may be an array index (protected paths leave indexes out) or an object key.
 */
function onOneLine (replaced: readonly string[], i: number, path: readonly string[], j: number): boolean {
  if (i === replaced.length || j === path.length) return true
  if ((replaced[i] as string).toLowerCase() === (path[j] as string).toLowerCase() && onOneLine(replaced, i + 1, path, j + 1)) return true
  return INDEX.test(replaced[i] as string) && onOneLine(replaced, i + 1, path, j)
}

/**
 * The first protected path a write touches, or null, judged on the request's shape and the
 * protected paths alone, never on the stored record (whether a hidden value exists there must
 * not change the answer): `data` names it at all, even with the value already stored (otherwise
 * "same value accepted, other value refused" answers guesses), or the write replaces a value
 * that could hold it, present or not (`replaced`: the paths the write sets wholesale, as s3db
 * merges it; none for an insert).
 */
export function protectedPathWritten (data: unknown, replaced: ReadonlyArray<readonly string[]>, paths: readonly string[]): string | null {
  for (const path of paths) {
    if (valuesAt(data, path).length > 0) return path
    const segments = path.split('.')
    if (replaced.some((r) => onOneLine(r, 0, segments, 0))) return path
  }
  return null
}

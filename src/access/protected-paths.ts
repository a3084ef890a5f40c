import { isPlainObject } from '../util/paths.js'
import { storedChildName, storedKeyName } from '../util/stored-key-name.js'

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
 * A resource's protected paths with what the stored-name rules need (see records/stored-names.ts):
 * their stored names, those that can have flattened fields under them, and the declared
 * top-level attributes.
 */
export interface ProtectedNames {
  readonly paths: readonly string[]
  readonly stored: ReadonlySet<string>
  /** Stored names of protected paths under an attribute s3db flattens (`any`, long-form objects). */
  readonly covering: readonly string[]
  readonly declared: ReadonlySet<string> | null
}

/**
 * @param flattening declared top-level attributes whose values s3db may flatten; a protected
 *   path under another declared attribute has no flattened fields (null: treat all as flattening).
 */
export function protectedNames (paths: readonly string[], declared: ReadonlySet<string> | null, flattening: ReadonlySet<string> | null = null): ProtectedNames {
  const covers = (path: string): boolean => {
    const top = path.split('.')[0] as string
    return flattening === null || declared === null || !declared.has(top) || flattening.has(top)
  }
  return {
    paths,
    stored: new Set(paths.map((path) => storedName(path.split('.')))),
    covering: [...new Set(paths.filter(covers).map((path) => storedName(path.split('.'))))],
    declared
  }
}

/** The stored name a path adds up to (`Profile.PIN` → `profile_pin`), array indexes skipped or not. */
function storedName (segments: readonly string[], skipIndexes = false): string {
  let name = ''
  for (const segment of segments) {
    if (skipIndexes && INDEX.test(segment)) continue
    name = storedChildName(name, segment)
  }
  return name
}

/** Whether some leading part of `segments` adds up to a protected stored name. */
function reachesStored (segments: readonly string[], stored: ReadonlySet<string>, skipIndexes: boolean): boolean {
  let name = ''
  for (const segment of segments) {
    if (skipIndexes && INDEX.test(segment)) continue
    name = storedChildName(name, segment)
    if (stored.has(name)) return true
  }
  return false
}

/** A stored name without its number components (`p_items_0_pin` → `p_items_pin`): array indexes. */
function withoutIndexes (name: string): string {
  return name.split('_').filter((part) => !INDEX.test(part)).join('_')
}

/**
 * A top-level key the resource does not declare is a field s3db flattened (`profile_pin` of a
 * long-form or free-form `profile`): protected when it is a protected path's stored name (array
 * indexes aside: `p_items_0_pin` for `p.items.pin`), or lies under the stored name of a protected
 * path that can have flattened fields (`profile` protected whole hides `profile_pin`, `profile.a`
 * hides `profile_a_b`). Under an `any`, `profile_settings_theme` may be `profile.settings.theme`
 * as well as a `profile_settings` field: ambiguous, so protected. A declared attribute is judged
 * by its own name only.
 */
export function flattenedUnderProtected (key: string, names: ProtectedNames): boolean {
  if (key === 'id' || names.declared === null || names.declared.has(key) || names.stored.size === 0) return false
  const name = storedKeyName(key)
  const bare = withoutIndexes(name)
  if (names.stored.has(name) || names.stored.has(bare)) return true
  return names.covering.some((owner) => [name, bare].some((candidate) => candidate === owner || candidate.startsWith(`${owner}_`)))
}

/** The protected path `path` reaches (a filter key, say), under any name s3db gives it; or null. */
export function protectedPathOf (path: string, names: ProtectedNames): string | null {
  const reached = protectedPathReached(path, names.paths)
  if (reached !== null) return reached
  const segments = path.split('.')
  if (reachesStored(segments, names.stored, false) || reachesStored(segments, names.stored, true)) return path
  return flattenedUnderProtected(segments[0] as string, names) ? segments[0] as string : null
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
  // Under any spelling that adds up to a protected stored name (`pin: {code}` for `pin_code`),
  // or replacing a value that holds one (a free-form `profile` for `profile_settings`).
  if (paths.length === 0) return null
  const stored = new Set(paths.map((path) => storedName(path.split('.'))))
  const written = writtenStored(data, '', stored)
  if (written !== null) return written
  for (const r of replaced) {
    const name = storedName(r, true)
    for (const owner of stored) if (owner === name || owner.startsWith(`${name}_`)) return r.join('.')
  }
  return null
}

/** The first path of `data` whose stored name (from `at`) is a protected one, or null. */
function writtenStored (value: unknown, at: string, stored: ReadonlySet<string>): string | null {
  if (Array.isArray(value)) {
    for (const element of value) {
      const found = writtenStored(element, at, stored)
      if (found !== null) return found
    }
    return null
  }
  if (!isPlainObject(value)) return null
  for (const [key, inner] of Object.entries(value)) {
    const name = storedChildName(at, key)
    if (stored.has(name)) return key
    const found = writtenStored(inner, name, stored)
    if (found !== null) return `${key}.${found}`
  }
  return null
}

import type { RecordData } from '../types.js'
import { storedChildName, storedKeyName } from '../util/stored-key-name.js'
import { flattenedUnderProtected, protectedNames, type ProtectedNames } from './protected-paths.js'

/** Removes fields from records before they leave the server, without touching the original. */
export type Projector = (record: RecordData) => RecordData

/** s3db internals such as `_etag`, `_v` or `$before` never leave the server. */
function isInternalKey (key: string): boolean {
  return key.startsWith('_') || key.startsWith('$')
}

/**
 * s3db 19.5.10 with `timestamps: true` leaves its own bookkeeping in records: `update` returns
 * and announces `metadata: {updatedAt}`, and a read adds `metadata_updatedat` (in an event's
 * `$after`, an older value than `updatedAt`). Unless the resource declares such a field, it is
 * s3db's, and never sent (so a reply, an event and a read of one state agree).
 */
function isTimestampArtifact (key: string, declared: ReadonlySet<string>): boolean {
  return (key === 'metadata' || key.startsWith('metadata_')) && !declared.has(key)
}

/*
 * Fields are matched by their stored name (records/stored-names.ts): s3db writes `profile.pin`,
 * `Profile.PIN` and `profile_pin` to one stored key, and a record may hold the field under any
 * of these spellings (events and update results keep the nested form, reads the flat one). So a
 * path is walked as the stored name it adds up to (`profile` → `profile_pin`), and a field whose
 * name is a protected path's stored name is left out, whatever its spelling and nesting.
 */
interface Rules {
  readonly names: ProtectedNames
  /** Stored names of the protected paths. */
  readonly stored: ReadonlySet<string>
  /** Their `_`-prefixes: a walk only descends into fields on the way to one. */
  readonly prefixes: ReadonlySet<string>
}

/** An array on the way to a protected path: each element loses the same protected fields. */
function copyArrayWithout (values: readonly unknown[], at: string, rules: Rules): unknown[] {
  return values.map((element) => {
    if (Array.isArray(element)) return copyArrayWithout(element, at, rules)
    return element !== null && typeof element === 'object' ? copyWithout(element as RecordData, at, rules) : element
  })
}

const INDEX = /^\d+$/

/**
 * Copies `value` (whose stored name is `at`) without its protected fields; never mutates it. A
 * number key may stand for an array index (s3db reads `{0: …, 1: …}` back as an array), which
 * protected paths leave out: both readings are followed.
 */
function copyWithout (value: RecordData, at: string, rules: Rules): RecordData {
  const out: RecordData = {}
  for (const key of Object.keys(value)) {
    const name = storedChildName(at, key)
    if (rules.stored.has(name)) continue
    const inner = value[key]
    const via = rules.prefixes.has(name) ? name : INDEX.test(key) && at !== '' && rules.prefixes.has(at) ? at : null
    if (inner === null || typeof inner !== 'object' || via === null) out[key] = inner
    else if (Array.isArray(inner)) out[key] = copyArrayWithout(inner, via, rules)
    else out[key] = copyWithout(inner as RecordData, via, rules)
  }
  return out
}

/** The top level: s3db internals, timestamp bookkeeping and flattened protected fields go too. */
function copyRecord (record: RecordData, rules: Rules | null, declared: ReadonlySet<string> | null): RecordData {
  const out: RecordData = {}
  for (const key of Object.keys(record)) {
    if (isInternalKey(key) || (declared !== null && isTimestampArtifact(key, declared))) continue
    if (rules === null) {
      out[key] = record[key]
      continue
    }
    if (flattenedUnderProtected(key, rules.names)) continue
    const name = storedKeyName(key)
    if (rules.stored.has(name)) continue
    const inner = record[key]
    if (inner === null || typeof inner !== 'object' || !rules.prefixes.has(name)) out[key] = inner
    else if (Array.isArray(inner)) out[key] = copyArrayWithout(inner, name, rules)
    else out[key] = copyWithout(inner as RecordData, name, rules)
  }
  return out
}

function underscorePrefixes (names: Iterable<string>): Set<string> {
  const out = new Set<string>()
  for (const name of names) {
    for (let i = name.indexOf('_'); i !== -1; i = name.indexOf('_', i + 1)) out.add(name.slice(0, i))
  }
  return out
}

/**
 * @param declared the resource's declared top-level attributes: an undeclared top-level key is a
 *   field s3db flattened (see flattenedUnderProtected) or its timestamp bookkeeping (see
 *   isTimestampArtifact); null: neither rule applies.
 * @param flattening the declared attributes s3db may flatten (records/stored-names.ts).
 */
export function createProjector (protectedPaths: readonly string[], declared: ReadonlySet<string> | null = null, flattening: ReadonlySet<string> | null = null): Projector {
  if (protectedPaths.length === 0) return (record) => copyRecord(record, null, declared)
  const names = protectedNames(protectedPaths, declared, flattening)
  const stored = new Set(names.stored)
  const rules: Rules = { names, stored, prefixes: underscorePrefixes(stored) }
  return (record) => copyRecord(record, rules, declared)
}

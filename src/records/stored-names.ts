import type { ResourceLike } from '../types.js'
import { isPlainObject } from '../util/paths.js'
import { storedKeyName } from '../util/stored-key-name.js'

/*
 * One stored field, several names. s3db 19.5.10 writes a field its mapper did not shorten (a
 * field of a long-form object, `profile: {type: 'object', props: {pin}}`, or of an `any` value)
 * under its stored key name (`profile_pin`, see storedKeyName) and reads it back under that name,
 * while events and write results still carry the nested form (`profile.pin`). A protected path
 * must therefore hide the field under every name it has: the dot path, the stored name, and the
 * dot paths whose stored name it is.
 */

/** `path` without its number segments (array indexes). */
function withoutIndexes (path: string): string {
  return path.split('.').filter((segment) => !/^\d+$/.test(segment)).join('.')
}

/** Underscores tried as dots per name (2^n variants), so a long name cannot blow up. */
const MAX_SPLIT_UNDERSCORES = 6

/** The nested fields of an attribute definition (long form or shorthand), or null for a leaf. */
function nestedFields (def: unknown): Record<string, unknown> | null {
  if (!isPlainObject(def)) return null
  if (def.type === 'object' && isPlainObject(def.props)) return def.props
  return typeof def.type === 'string' ? null : def
}

function declaredPaths (attributes: Record<string, unknown>, prefix: string, out: string[]): void {
  for (const [key, def] of Object.entries(attributes)) {
    if (key.includes('$$')) continue
    const path = prefix + key
    out.push(path)
    const nested = nestedFields(def)
    if (nested !== null) declaredPaths(nested, `${path}.`, out)
  }
}

/** Every way to read some of `text`'s underscores as dots (at most 2^MAX_SPLIT_UNDERSCORES). */
function dottings (text: string): string[] {
  const parts = text.split('_')
  if (parts.length - 1 > MAX_SPLIT_UNDERSCORES) return [text]
  let out = [parts[0] as string]
  for (const part of parts.slice(1)) out = out.flatMap((head) => [`${head}_${part}`, `${head}.${part}`])
  return out
}

/**
 * `paths` with every other name of the same stored fields: for `profile.pin`, `profile_pin`;
 * for `profile.items.pin`, also `profile_items.pin` (an array inside a flattened value stays
 * an array under the flattened name); for `profile_pin`, `profile.pin` when `profile` is
 * declared (long form or a free-form value); for a whole long-form object, the stored names of
 * its declared fields.
 */
export function withStoredNames (paths: readonly string[], resource: ResourceLike): string[] {
  const attributes = resource.attributes ?? resource.config?.attributes
  const declared: string[] = []
  if (isPlainObject(attributes)) declaredPaths(attributes, '', declared)
  const topLevel = new Set(declared.filter((path) => !path.includes('.')))
  // Protected paths leave array indexes out: `items.0.pin` protects `pin` in every element.
  const all = [...new Set([...paths, ...paths.map(withoutIndexes).filter((path) => path !== '')])]
  const out = new Set(all)
  for (const path of all) {
    const stored = storedKeyName(path)
    out.add(stored)
    // A free-form value flattened down to an array: `profile.items.pin` is in `profile_items`.
    const segments = path.split('.')
    for (let k = 2; k < segments.length; k++) out.add(`${storedKeyName(segments.slice(0, k).join('.'))}.${segments.slice(k).join('.')}`)
    for (const other of declared) {
      if (storedKeyName(other) === stored) out.add(other)
      if (other.startsWith(`${path}.`)) out.add(storedKeyName(other))
    }
    if (path.includes('.')) continue
    // `profile_pin` of a free-form `profile` (an `any` holding {pin}) is `profile.pin` in events.
    for (const dotted of dottings(path)) {
      const first = dotted.split('.')[0] as string
      if (dotted !== path && topLevel.has(first)) out.add(dotted)
    }
  }
  return [...out]
}

/**
 * Whether s3db flattens (part of) a value of this definition: `any`, or an object declared as a
 * definition object (`{type: 'object'}` with or without `props`, `{$$type: 'object'}`); the
 * string form `'object'` and `json` are stored whole, as JSON.
 */
function flattens (def: unknown): boolean {
  const type = typeof def === 'string' ? def.split('|')[0]?.trim() : isPlainObject(def) && typeof def.type === 'string' ? def.type : null
  if (type === 'any') return true
  if (isPlainObject(def) && (def.type === 'object' || typeof def.$$type === 'string')) return true
  const nested = nestedFields(def)
  return nested !== null && Object.values(nested).some(flattens)
}

/**
 * Top-level attributes whose values s3db may write under flattened names (an `any`, a long-form
 * object, or an object holding one): only a protected path under one of them can have fields
 * under names that merely start with its stored name.
 */
export function flatteningAttributes (resource: ResourceLike): Set<string> {
  const attributes = resource.attributes ?? resource.config?.attributes
  const out = new Set<string>()
  if (isPlainObject(attributes)) for (const [key, def] of Object.entries(attributes)) if (flattens(def)) out.add(key)
  return out
}

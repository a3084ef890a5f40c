import type { ResourceLike } from '../types.js'
import { isPlainObject } from '../util/paths.js'

/*
 * Declared attributes of a given s3db type, as dot paths: `secret` ones (encrypted at rest) and
 * `json` ones, whose values s3db hands out in a different form on some write paths than a read
 * returns (ciphertext in `update`'s result and `updated` event; a JSON string in what `replace`'s
 * after-hook sees).
 */

/** The type of one attribute definition: 'secret|required' -> 'secret', {type: 'json'} -> 'json'. */
function typeOf (def: unknown): string | null {
  if (typeof def === 'string') return def.split('|')[0]?.trim() ?? null
  if (isPlainObject(def) && typeof def.type === 'string') return def.type.split('|')[0]?.trim() ?? null
  return null
}

/** The kinds of attribute s3db hands out differently (see the top of this file). */
export type SpecialKind = 'json' | 'sealed'

/**
 * `sealed`: encrypted (`secret`, `secretAny`, `secretNumber`) or hashed (`password`, bcrypt):
 * what a client could get of them is ciphertext or a hash to crack offline, never the value.
 */
function kindOf (type: string | null): SpecialKind | null {
  if (type === null) return null
  if (type === 'json') return 'json'
  return type.startsWith('secret') || type === 'password' ? 'sealed' : null
}

/**
 * The kind of one definition. An array is sealed when its items are, or hold a sealed field
 * ('array|items:secret', {type: 'array', items: 'secret'}, items that are objects with one): s3db
 * encrypts each element, and the array as a whole is then the sealed value.
 */
function kindOfDefinition (def: unknown): SpecialKind | null {
  const own = kindOf(typeOf(def))
  if (own !== null) return own
  if (typeof def === 'string') {
    const items = def.split('|').map((part) => part.trim()).find((part) => part.startsWith('items:'))
    return items !== undefined && kindOf(items.slice('items:'.length)) === 'sealed' ? 'sealed' : null
  }
  if (isPlainObject(def) && def.type === 'array' && def.items !== undefined) {
    return kindOfDefinition(def.items) === 'sealed' || holdsSealed(def.items) ? 'sealed' : null
  }
  return null
}

/** An object definition (long form or nested) with a sealed field anywhere inside. */
function holdsSealed (def: unknown): boolean {
  if (!isPlainObject(def)) return false
  const fields = def.type === 'object' && isPlainObject(def.props) ? def.props : typeof def.type === 'string' ? null : def
  if (fields === null) return false
  return Object.values(fields).some((inner) => kindOfDefinition(inner) === 'sealed' || holdsSealed(inner))
}

function collect (attributes: Record<string, unknown>, kind: SpecialKind, prefix: string, out: string[]): void {
  for (const [key, def] of Object.entries(attributes)) {
    if (key.includes('$$')) continue
    if (kindOfDefinition(def) === kind) out.push(prefix + key)
    else if (isPlainObject(def)) {
      const nested = def.type === 'object' && isPlainObject(def.props) ? def.props : typeof def.type === 'string' ? null : def
      if (nested !== null) collect(nested, kind, `${prefix}${key}.`, out)
    }
  }
}

/** Dot paths of the resource's attributes of `kind`. */
export function attributesOfType (resource: ResourceLike, kind: SpecialKind): string[] {
  const attributes = resource.attributes ?? resource.config?.attributes
  const out: string[] = []
  if (isPlainObject(attributes)) collect(attributes, kind, '', out)
  return out
}

/**
 * `record` with the JSON strings at `paths` (s3db `json` attributes) parsed, as a read returns
 * them; `record` itself when there is nothing to parse. A string that is not JSON stays as it is.
 */
export function withJsonParsed (record: Record<string, unknown>, paths: readonly string[]): Record<string, unknown> {
  let out = record
  for (const path of paths) {
    const segments = path.split('.')
    const parent = segments.slice(0, -1).reduce<unknown>((at, key) => isPlainObject(at) ? at[key] : undefined, out)
    const last = segments[segments.length - 1] as string
    if (!isPlainObject(parent) || typeof parent[last] !== 'string') continue
    let parsed: unknown
    try {
      parsed = JSON.parse(parent[last])
    } catch {
      continue
    }
    if (out === record) out = structuredClone(record)
    const target = segments.slice(0, -1).reduce<Record<string, unknown>>((at, key) => at[key] as Record<string, unknown>, out)
    target[last] = parsed
  }
  return out
}

import type { ResourceLike } from '../types.js'
import { isPlainObject } from '../util/paths.js'

/*
 * Sealed attributes, as dot paths: s3db `secret*` ones (encrypted at rest, and handed out as
 * ciphertext by some write paths: `update`'s result and `updated` event) and `password` ones
 * (bcrypt hashes). Nothing a client could get of them is the value.
 */

/** The type of one attribute definition: 'secret|required' -> 'secret', {type: 'secretAny'} -> 'secretAny'. */
function typeOf (def: unknown): string | null {
  if (typeof def === 'string') return def.split('|')[0]?.trim() ?? null
  if (isPlainObject(def) && typeof def.type === 'string') return def.type.split('|')[0]?.trim() ?? null
  return null
}

/** Encrypted (`secret`, `secretAny`, `secretNumber`) or hashed (`password`). */
function isSealedType (type: string | null): boolean {
  return type !== null && (type.startsWith('secret') || type === 'password')
}

/**
 * Whether one definition is sealed. An array is sealed when its items are, or hold a sealed field
 * ('array|items:secret', {type: 'array', items: 'secret'}, items that are objects with one): s3db
 * encrypts each element, and the array as a whole is then the sealed value.
 */
function isSealed (def: unknown): boolean {
  if (isSealedType(typeOf(def))) return true
  if (typeof def === 'string') {
    const items = def.split('|').map((part) => part.trim()).find((part) => part.startsWith('items:'))
    return items !== undefined && isSealedType(items.slice('items:'.length))
  }
  if (isPlainObject(def) && def.type === 'array' && def.items !== undefined) return isSealed(def.items) || holdsSealed(def.items)
  return false
}

/** An object definition (long form or nested) with a sealed field anywhere inside. */
function holdsSealed (def: unknown): boolean {
  if (!isPlainObject(def)) return false
  const fields = def.type === 'object' && isPlainObject(def.props) ? def.props : typeof def.type === 'string' ? null : def
  if (fields === null) return false
  return Object.values(fields).some((inner) => isSealed(inner) || holdsSealed(inner))
}

function collect (attributes: Record<string, unknown>, prefix: string, out: string[]): void {
  for (const [key, def] of Object.entries(attributes)) {
    if (key.includes('$$')) continue
    if (isSealed(def)) out.push(prefix + key)
    else if (isPlainObject(def)) {
      const nested = def.type === 'object' && isPlainObject(def.props) ? def.props : typeof def.type === 'string' ? null : def
      if (nested !== null) collect(nested, `${prefix}${key}.`, out)
    }
  }
}

/** Dot paths of the resource's sealed attributes (an array of sealed values is sealed whole). */
export function sealedAttributes (resource: ResourceLike): string[] {
  const attributes = resource.attributes ?? resource.config?.attributes
  const out: string[] = []
  if (isPlainObject(attributes)) collect(attributes, '', out)
  return out
}


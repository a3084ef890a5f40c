/** Names already converted (field names repeat endlessly); cleared when it grows past this. */
const CACHE_LIMIT = 10_000
const cache = new Map<string, string>()

/**
 * The name s3db's clients (S3, memory, file) give a metadata key when they write it: anything
 * but letters, digits, `-` and `_` becomes `_`, and it is lowercased. Declared attributes travel
 * under short keys that never change; a key s3db's mapper did not shorten (a field of a
 * long-form object or of an `any` value: `org.id`) does, and is read back under the new name
 * (`org_id`), where it can land on another attribute.
 */
export function storedKeyName (key: string): string {
  let name = cache.get(key)
  if (name === undefined) {
    name = key.replace(/[^a-zA-Z0-9\-_]/g, '_').toLowerCase()
    if (cache.size >= CACHE_LIMIT) cache.clear()
    cache.set(key, name)
  }
  return name
}

/** The stored name of field `key` inside a field stored as `parent` ('' at the top level). */
export function storedChildName (parent: string, key: string): string {
  const own = storedKeyName(key)
  return parent === '' ? own : `${parent}_${own}`
}

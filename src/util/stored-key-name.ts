/**
 * The name s3db's clients (S3, memory, file) give a metadata key when they write it: anything
 * but letters, digits, `-` and `_` becomes `_`, and it is lowercased. Declared attributes travel
 * under short keys that never change; a key s3db's mapper did not shorten (a field of a
 * long-form object or of an `any` value: `org.id`) does, and is read back under the new name
 * (`org_id`), where it can land on another attribute.
 */
export function storedKeyName (key: string): string {
  return key.replace(/[^a-zA-Z0-9\-_]/g, '_').toLowerCase()
}

import { ErrorCodes, ProtocolError } from '../errors.js'
import { hasLoneSurrogate } from '../util/unicode.js'

/**
 * Longest id, cursor or partition value (UTF-8 bytes) that may become part of a storage key. A
 * file system allows 255 bytes per name, and the file backend adds `id=` and `.meta.json`.
 */
export const MAX_KEY_SEGMENT_BYTES = 200

// Control characters (C0, DEL, C1): never part of an S3 key or a file name we create.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

// s3db's file backend keeps a record's metadata beside it in `<name>.meta.json`: a record whose
// id ends that way would overwrite another record's metadata.
const RESERVED_SUFFIX = /\.meta\.json$/i

/**
 * Why `value` may not become one segment of a storage key, or null when it may. Ids, cursors
 * and partition values end up in S3 keys (and, on `file://`, in file paths): a `/`, `\` or `..`
 * would let a client name another resource's objects or a file outside the data directory.
 */
export function keySegmentProblem (value: string): string | null {
  if (value === '') return 'must not be empty'
  if (hasLoneSurrogate(value)) return 'must be well-formed Unicode (no lone surrogates)'
  if (Buffer.byteLength(value) > MAX_KEY_SEGMENT_BYTES) return `must be at most ${MAX_KEY_SEGMENT_BYTES} bytes (UTF-8)`
  if (value.includes('/') || value.includes('\\')) return 'must not contain "/" or "\\"'
  if (value.includes('..')) return 'must not contain ".."'
  if (CONTROL.test(value)) return 'must not contain control characters'
  // Trimmed by s3db (partition values) or by file systems (Windows drops trailing spaces and
  // dots), such a value would name another object than the one it was checked as.
  if (value.trim() !== value) return 'must not start or end with whitespace'
  if (value.endsWith('.')) return 'must not end with "."'
  if (RESERVED_SUFFIX.test(value)) return 'must not end with ".meta.json"'
  return null
}

/** Throws INVALID_REQUEST naming `field` (a JSON pointer) when `value` is not a safe key segment. */
export function requireKeySegment (value: unknown, field: string): string {
  if (typeof value !== 'string') throw new ProtocolError(ErrorCodes.INVALID_REQUEST, `${field} must be a string`, { field })
  const problem = keySegmentProblem(value)
  if (problem !== null) throw new ProtocolError(ErrorCodes.INVALID_REQUEST, `${field} ${problem}`, { field })
  return value
}

/** The partition value as s3db will write it into the key (it stringifies whatever it gets). */
export function requirePartitionValue (value: unknown, field: string): void {
  if (value === undefined || value === null) return
  requireKeySegment(typeof value === 'string' ? value : String(value), field)
}

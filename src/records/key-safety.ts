import { ErrorCodes, ProtocolError } from '../errors.js'

/** Longest id, cursor or partition value that may become part of a storage key. */
export const MAX_KEY_SEGMENT = 256

// Control characters (C0, DEL, C1): never part of an S3 key or a file name we create.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

/**
 * Why `value` may not become one segment of a storage key, or null when it may. Ids, cursors
 * and partition values end up in S3 keys (and, on `file://`, in file paths): a `/`, `\` or `..`
 * would let a client name another resource's objects or a file outside the data directory.
 */
export function keySegmentProblem (value: string): string | null {
  if (value === '') return 'must not be empty'
  if (value.length > MAX_KEY_SEGMENT) return `must be at most ${MAX_KEY_SEGMENT} characters`
  if (value.includes('/') || value.includes('\\')) return 'must not contain "/" or "\\"'
  if (value.includes('..')) return 'must not contain ".."'
  if (CONTROL.test(value)) return 'must not contain control characters'
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

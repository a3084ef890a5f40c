import { ErrorCodes, ProtocolError } from '../errors.js'
import { isNotFound } from '../util/not-found.js'

interface S3dbValidationItem { field?: unknown, message?: unknown, type?: unknown }

function validationItems (error: Record<string, unknown>): S3dbValidationItem[] | null {
  const data = error.data as Record<string, unknown> | undefined
  const list = (data?.validation ?? error.validation) as unknown
  if (Array.isArray(list)) return list as S3dbValidationItem[]
  // A single-field ValidationError (e.g. an id with '/') names its field instead of listing them.
  if (error.name === 'ValidationError' && typeof error.field === 'string') {
    return [{ field: error.field, type: error.constraint, message: error.message }]
  }
  return null
}

/**
 * Maps anything a handler threw to a protocol error. s3db's validation failures become
 * VALIDATION_ERROR with field details; missing records NOT_FOUND; anything else
 * INTERNAL_ERROR with a fixed message (the real one is logged, never sent).
 */
export function toProtocolError (error: unknown): { error: ProtocolError, internal: boolean } {
  if (error instanceof ProtocolError) return { error, internal: false }
  if (error !== null && typeof error === 'object') {
    const e = error as Record<string, unknown>
    const items = validationItems(e)
    if (items !== null || e.name === 'InvalidResourceItem' || e.name === 'ValidationError') {
      const details = (items ?? []).map((item) => ({
        field: typeof item.field === 'string' ? item.field : undefined,
        type: typeof item.type === 'string' ? item.type : undefined,
        message: typeof item.message === 'string' ? item.message : undefined
      }))
      return { error: new ProtocolError(ErrorCodes.VALIDATION_ERROR, 'Validation failed', details), internal: false }
    }
    if (isNotFound(e)) {
      return { error: new ProtocolError(ErrorCodes.NOT_FOUND, 'Record not found'), internal: false }
    }
  }
  return { error: new ProtocolError(ErrorCodes.INTERNAL_ERROR, 'Internal server error'), internal: true }
}

import createError from '@fastify/error'

/** Codes a client can receive in `{type:'error', code}` replies. */
export const ErrorCodes = {
  INVALID_JSON: 'INVALID_JSON',
  INVALID_REQUEST: 'INVALID_REQUEST',
  UNKNOWN_MESSAGE_TYPE: 'UNKNOWN_MESSAGE_TYPE',
  RESOURCE_NOT_FOUND: 'RESOURCE_NOT_FOUND',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  VALIDATION_ERROR: 'VALIDATION_ERROR',
  FORBIDDEN: 'FORBIDDEN',
  UNAUTHORIZED: 'UNAUTHORIZED',
  RATE_LIMIT_EXCEEDED: 'RATE_LIMIT_EXCEEDED',
  RESYNC_REQUIRED: 'RESYNC_REQUIRED',
  NOT_IN_CHANNEL: 'NOT_IN_CHANNEL',
  CHANNELS_DISABLED: 'CHANNELS_DISABLED',
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL_ERROR: 'INTERNAL_ERROR'
} as const
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

/** WebSocket close codes the server uses. */
export const CloseCodes = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  TRY_AGAIN_LATER: 1013,
  TOKEN_EXPIRED: 4001
} as const

/**
 * An error that becomes a protocol `error` reply. Handlers throw it; the dispatcher turns it
 * into `{type:'error', requestId, code, message, details?}` and the socket stays usable.
 */
export class ProtocolError extends Error {
  readonly code: ErrorCode
  readonly details: unknown
  constructor (code: ErrorCode, message: string, details?: unknown) {
    super(message)
    this.name = 'ProtocolError'
    this.code = code
    this.details = details
  }
}

/** Thrown at `register` (or `new WebSocketPlugin`) when an option is invalid. */
export const InvalidOptionError = createError<[string]>(
  'S3DB_REALTIME_INVALID_OPTION',
  'Invalid s3db-realtime option: %s',
  500,
  TypeError
)

/**
 * A write to a realtime resource refused before it reached the store: this instance (or
 * `attachPublisher` worker) has been cut off from the cluster bus long enough that the others are
 * about to presume it dead and announce what it wrote; a write made now could never be
 * announced. Retry once it is back (its readiness check says when).
 */
export const CutOffError = createError(
  'S3DB_REALTIME_CUT_OFF',
  'This instance is cut off from the cluster bus; the write was not made (try again later)',
  503
)

/** Thrown at `register` when a configured resource does not exist in the database. */
export const UnknownResourceError = createError<[string]>(
  'S3DB_REALTIME_UNKNOWN_RESOURCE',
  'Resource "%s" is configured but does not exist in the s3db database',
  500
)

/**
 * Client-side codes, beside the server's protocol codes (NOT_FOUND, FORBIDDEN, …) which
 * `RealtimeError.code` carries unchanged.
 */
export const ClientErrorCodes = {
  /** No reply within `requestTimeout`. */
  TIMEOUT: 'TIMEOUT',
  /** The socket dropped after the request was sent: whether it took effect is unknown. */
  DISCONNECTED: 'DISCONNECTED',
  /** `close()` was called (or reconnection gave up) before the request could complete. */
  CLIENT_CLOSED: 'CLIENT_CLOSED',
  /** Could not open a socket or it closed before the server said `connected`. */
  CONNECT_FAILED: 'CONNECT_FAILED',
  /** The server sent something the client cannot read. */
  BAD_FRAME: 'BAD_FRAME'
} as const

/** An error reply from the server, or a client-side failure; `code` says which. */
export class RealtimeError extends Error {
  readonly code: string
  readonly details: unknown
  readonly requestId: string | null

  constructor (code: string, message: string, details?: unknown, requestId: string | null = null) {
    super(message)
    this.name = 'RealtimeError'
    this.code = code
    this.details = details
    this.requestId = requestId
  }

  /** Builds the error from a `{type:'error', code, message, details}` frame (CONFLICT: a ConflictError). */
  static fromFrame (frame: Record<string, unknown>): RealtimeError {
    const code = typeof frame.code === 'string' ? frame.code : 'INTERNAL_ERROR'
    const message = typeof frame.message === 'string' ? frame.message : code
    const requestId = typeof frame.requestId === 'string' ? frame.requestId : null
    if (code === ConflictError.CODE) return new ConflictError(message, frame.details, requestId)
    return new RealtimeError(code, message, frame.details, requestId)
  }
}

/**
 * `update(…, { ifVersion })` lost the race: someone else wrote the record after that version was
 * read, and nothing was written. `version` and `current` are the record as it is now (as this
 * client may see it): merge, then retry with `ifVersion: error.version`.
 */
export class ConflictError extends RealtimeError {
  static readonly CODE = 'CONFLICT'
  /** The record's current version. */
  readonly version: string
  /** The current record (whole, as this client may see it). */
  readonly current: Record<string, unknown>

  constructor (message: string, details: unknown, requestId: string | null = null) {
    super(ConflictError.CODE, message, details, requestId)
    this.name = 'ConflictError'
    const found = (details ?? {}) as { version?: unknown, data?: unknown }
    this.version = typeof found.version === 'string' ? found.version : ''
    this.current = found.data !== null && typeof found.data === 'object' ? found.data as Record<string, unknown> : {}
  }
}

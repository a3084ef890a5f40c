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

  /** Builds the error from a `{type:'error', code, message, details}` frame. */
  static fromFrame (frame: Record<string, unknown>): RealtimeError {
    const code = typeof frame.code === 'string' ? frame.code : 'INTERNAL_ERROR'
    const message = typeof frame.message === 'string' ? frame.message : code
    const requestId = typeof frame.requestId === 'string' ? frame.requestId : null
    return new RealtimeError(code, message, frame.details, requestId)
  }
}

import { RealtimeError } from './errors.js'

/** The HTTP status `ws` (Node) reports for a refused upgrade: "Unexpected server response: 401". */
export function refusedStatus (message: unknown): number | null {
  if (typeof message !== 'string') return null
  const match = /Unexpected server response: (\d{3})/.exec(message)
  return match === null ? null : Number(match[1])
}

/** Close codes the server uses for auth (see the server's CloseCodes). */
const POLICY_VIOLATION = 1008
const TOKEN_EXPIRED = 4001

/**
 * Whether a close ends the link instead of reconnecting: a 1008 whose reason is about
 * authentication (no valid `auth` in time, too many failed attempts), or a 4001 "token expired"
 * when the token is a fixed string (only a provider function can hand out a fresh one).
 * Other 1008s (rate limit, a ban) keep today's reconnect behaviour.
 */
export function authFailure (code: number | null, reason: string, canRefresh: boolean): RealtimeError | null {
  if (code === POLICY_VIOLATION && /auth/i.test(reason)) {
    return new RealtimeError('UNAUTHORIZED', `The server closed the connection: ${reason}`, { closeCode: code })
  }
  if (code === TOKEN_EXPIRED && !canRefresh) {
    return new RealtimeError('UNAUTHORIZED', 'The token expired and the client has no token provider to get a fresh one', { closeCode: code })
  }
  return null
}

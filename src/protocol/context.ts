import type { FastifyBaseLogger } from 'fastify'
import type { Connection } from '../connection/connection.js'
import type { Hub } from '../hub/hub.js'
import { CloseCodes, ErrorCodes, ProtocolError } from '../errors.js'
import { hasExpired } from '../upgrade/user.js'
import type { ResolvedCoreOptions } from '../options.js'

export type RequestId = string | number | undefined

/** What every message handler receives besides the validated message. */
export interface RequestContext {
  readonly connection: Connection
  readonly hub: Hub
  readonly options: ResolvedCoreOptions
  readonly requestId: RequestId
  readonly log: FastifyBaseLogger
  /** Sends a reply that echoes the request's `requestId`. */
  reply (message: Record<string, unknown>): void
}

export type Handler<M> = (ctx: RequestContext, message: M) => void | Promise<void>

/**
 * Called right before a handler acts for other users (an s3db write, a publish): a socket the
 * server closed while the handler awaited a guard (a ban, an expired token) must not act after
 * the close. The error is never seen: replies to a closed socket are dropped.
 */
export function requireOpen (ctx: RequestContext): void {
  if (ctx.connection.closed || closeIfExpired(ctx.connection)) throw new ProtocolError(ErrorCodes.UNAUTHORIZED, 'Connection closed')
}

/**
 * Credentials that expired since the last sweep of the expiry watch (it runs once a second)
 * authorize nothing more: the socket is closed with 4001 now. True when it was.
 */
export function closeIfExpired (connection: Connection): boolean {
  if (!hasExpired(connection.user)) return false
  connection.close(CloseCodes.TOKEN_EXPIRED, 'Token expired')
  return true
}

import type { FastifyBaseLogger } from 'fastify'
import type { Connection } from '../connection/connection.js'
import type { Hub } from '../hub/hub.js'
import { ErrorCodes, ProtocolError } from '../errors.js'
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
  if (ctx.connection.closed) throw new ProtocolError(ErrorCodes.UNAUTHORIZED, 'Connection closed')
}

import type { FastifyBaseLogger } from 'fastify'
import type { ChannelService } from '../channels/service.js'
import type { Connection } from '../connection/connection.js'
import type { ChangeStream } from '../hub/change-stream.js'
import type { LocalHub } from '../hub/local-hub.js'
import type { Relay } from '../hub/relay.js'
import type { HistorySource } from '../hub/replay.js'
import { CloseCodes, ErrorCodes, ProtocolError } from '../errors.js'
import { hasExpired } from '../upgrade/user.js'
import type { ResolvedCoreOptions } from '../options/core.js'
import type { RecordLocks } from '../records/record-locks.js'
import type { AuthServices } from '../upgrade/message-auth.js'
import type { InspectorPort } from './inspector-port.js'
import type { ReplyFrame, RequestId } from '../wire/frames.js'

export type { RequestId }

/**
 * What handlers act through besides the hub, built once by the plugin and given to the
 * Dispatcher (no handler closes over a feature's installer).
 */
export interface Services {
  readonly channels: ChannelService
  readonly auth: AuthServices
  /** Numbering and history (`since`, snapshots). */
  readonly stream: ChangeStream
  /** Where `since` reads beyond this instance's memory (null alone). */
  readonly history: HistorySource | null
  /** Repeats a publish on the other instances (`noRelay` alone). */
  readonly relay: Relay
  /** The live inspector's feed; absent or null when the `inspector` option is off. */
  readonly inspector?: InspectorPort | null
  /** Socket writes to one record take turns (clustered: across instances too, see cluster/record-lock.ts). */
  readonly locks: RecordLocks
  /**
   * Charges one more request to the socket's message rate limit, throwing RATE_LIMIT_EXCEEDED
   * over it: each batch item after the first counts like a frame of its own. Absent or null
   * when `rateLimit` is off.
   */
  readonly messageRate?: ((connection: Connection) => void) | null
}

/** What every message handler receives besides the validated message. */
export interface RequestContext {
  readonly connection: Connection
  readonly hub: LocalHub
  readonly options: ResolvedCoreOptions
  readonly requestId: RequestId
  readonly log: FastifyBaseLogger
  readonly services: Services
  /** Sends a frame built by src/wire/frames.ts, echoing the request's `requestId`. */
  reply (frame: ReplyFrame): void
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

import type { FastifyBaseLogger } from 'fastify'
import type { Connection } from '../connection/connection.js'
import type { Hub } from '../hub/hub.js'
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

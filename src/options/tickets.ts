import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RealtimeUser } from '../types.js'
import { isPlainObject } from '../util/paths.js'
import { DEFAULTS } from './defaults.js'
import { fail, onlyKeys, positiveInteger } from './validate.js'

type MaybePromise<T> = T | Promise<T>

/** One-time connection tickets (`?ticket=`). */
export interface TicketOptions {
  /** Lifetime of a ticket, ms. @default 30000 */
  ttlMs?: number
  /** Outstanding (unused, unexpired) tickets kept at most per instance; the oldest are dropped. @default 10000 */
  maxOutstanding?: number
  /**
   * Outstanding tickets per user (by `user.id`) per instance; a new ticket evicts that user's own
   * oldest, never another user's. @default 10
   */
  maxPerUser?: number
  /** Opt-in REST route `POST <path>/ticket`. @default off */
  route?: {
    /** Without it: `${path}/ticket`. */
    path?: string
    /**
     * The app's own authentication for the route: return the user to issue a ticket for, or
     * null/undefined to refuse with 401 (it may also send its own reply).
     */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => MaybePromise<RealtimeUser | null | undefined>
  }
}

export interface ResolvedTickets {
  readonly ttlMs: number
  readonly maxOutstanding: number
  readonly maxPerUser: number
  readonly route: { readonly path: string, readonly authenticate: NonNullable<TicketOptions['route']>['authenticate'] } | null
}

/** `tickets`; `wsPath` places the optional route under the WebSocket path. */
export function resolveTickets (input: unknown, wsPath: string): ResolvedTickets {
  const defaults = DEFAULTS.tickets
  if (input === undefined) return { ttlMs: defaults.ttlMs, maxOutstanding: defaults.maxOutstanding, maxPerUser: defaults.maxPerUser, route: defaults.route }
  if (!isPlainObject(input)) fail('tickets must be an object { ttlMs?, maxOutstanding?, maxPerUser?, route? }')
  onlyKeys(input, 'tickets', ['ttlMs', 'maxOutstanding', 'maxPerUser', 'route'])
  let route: ResolvedTickets['route'] = defaults.route
  if (input.route !== undefined && input.route !== false) {
    const r = input.route
    if (!isPlainObject(r) || typeof r.authenticate !== 'function') {
      fail('tickets.route must be { path?, authenticate(request, reply) } (the app decides who gets a ticket)')
    }
    const path = r.path ?? defaults.routePath.of(wsPath)
    if (typeof path !== 'string' || !path.startsWith('/')) fail('tickets.route.path must start with "/"')
    route = { path, authenticate: r.authenticate as NonNullable<TicketOptions['route']>['authenticate'] }
  }
  return {
    ttlMs: positiveInteger(input.ttlMs, 'tickets.ttlMs', defaults.ttlMs),
    maxOutstanding: positiveInteger(input.maxOutstanding, 'tickets.maxOutstanding', defaults.maxOutstanding),
    maxPerUser: positiveInteger(input.maxPerUser, 'tickets.maxPerUser', defaults.maxPerUser),
    route
  }
}

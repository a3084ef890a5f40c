import { Type, type Static } from '@sinclair/typebox'
import { effectiveSubscriptionFilter } from '../../access/subscription-filter.js'
import type { Connection } from '../../connection/connection.js'
import { CloseCodes, ErrorCodes, ProtocolError } from '../../errors.js'
import type { Subscription } from '../../connection/subscription.js'
import type { RealtimeUser } from '../../types.js'
import { warnNoUserId } from '../../upgrade/authenticate.js'
import type { ExpiryWatch } from '../../upgrade/session.js'
import type { Verified } from '../../upgrade/types.js'
import { expiryOf } from '../../upgrade/user.js'
import type { Dispatcher } from '../dispatcher.js'
import type { RequestContext } from '../context.js'

const RequestIdField = Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Integer()]))
/** `{type:'auth', token}` (refresh, or in-band authentication) or `{type:'auth', ticket}`. */
export const AuthSchema = Type.Union([
  Type.Object({ type: Type.Literal('auth'), requestId: RequestIdField, token: Type.String({ minLength: 1, maxLength: 8192 }) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('auth'), requestId: RequestIdField, ticket: Type.String({ minLength: 1, maxLength: 8192 }) }, { additionalProperties: false })
])
export type AuthMessage = Static<typeof AuthSchema>

/**
 * Re-checks every subscription of the connection for its (new) user: those the guards now
 * refuse are dropped (the client is told), the others get their forced filters recomputed.
 */
async function recheckSubscriptions (ctx: RequestContext): Promise<void> {
  const { connection, hub, options } = ctx
  for (const subscription of [...connection.subscriptions.values()]) {
    const resource = options.resources.get(subscription.resource)
    let filter: Subscription['filter'] | null = null
    try {
      if (resource !== undefined) filter = await effectiveSubscriptionFilter(resource, connection.user, subscription.clientFilter, ctx.log)
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error
    }
    if (connection.closed) return
    if (filter === null) {
      hub.removeSubscription(subscription)
      connection.sendMessage({
        type: 'unsubscribed',
        resource: subscription.resource,
        subscriptionId: subscription.id,
        subscriptionIds: [subscription.id],
        reason: ErrorCodes.FORBIDDEN
      })
      continue
    }
    // Re-index: the index buckets a subscription by its filter's first condition.
    hub.removeSubscription(subscription)
    subscription.filter = filter
    hub.addSubscription(subscription)
  }
}

/**
 * Failed `auth` messages one socket may send within AUTH_FAILURE_WINDOW_MS. The next attempt in
 * the window is not verified: it gets RATE_LIMIT_EXCEEDED and the socket is closed with 1008.
 * Without this, one socket could guess API keys or tokens at the message rate while the
 * upgrade route's connection limit held new sockets to a few per minute. Successful refreshes
 * do not count.
 */
export const AUTH_FAILURE_LIMIT = 3
/** @see AUTH_FAILURE_LIMIT */
export const AUTH_FAILURE_WINDOW_MS = 60_000

/**
 * Times of each socket's recent failed refreshes (at most AUTH_FAILURE_LIMIT per socket). A
 * WeakMap, so the entry goes with the connection. Frames of one socket are handled in order
 * (see Dispatcher), so no second attempt can be verified while one is in flight.
 */
class AuthFailures {
  private readonly times = new WeakMap<Connection, number[]>()

  /** Whether `connection` has used up its failures in the window ending `now`. */
  exhausted (connection: Connection, now: number): boolean {
    const times = this.times.get(connection)
    if (times === undefined) return false
    while (times.length > 0 && now - (times[0] as number) >= AUTH_FAILURE_WINDOW_MS) times.shift()
    if (times.length === 0) this.times.delete(connection)
    return times.length >= AUTH_FAILURE_LIMIT
  }

  record (connection: Connection, now: number): void {
    let times = this.times.get(connection)
    if (times === undefined) this.times.set(connection, times = [])
    times.push(now)
    if (times.length > AUTH_FAILURE_LIMIT) times.shift()
  }
}

/**
 * The refused attempt is answered before the close so the client can tell why it was closed.
 * New sockets are then held by the upgrade route's connection rate limit.
 */
function refuseThrottled (ctx: RequestContext): void {
  ctx.log.warn({ limit: AUTH_FAILURE_LIMIT, windowMs: AUTH_FAILURE_WINDOW_MS }, 'realtime: too many failed auth messages; closing with 1008')
  ctx.hub.counters.errors++
  ctx.reply({
    type: 'error',
    code: ErrorCodes.RATE_LIMIT_EXCEEDED,
    message: 'Too many failed auth attempts on this connection; it is closed',
    details: { limit: AUTH_FAILURE_LIMIT, windowMs: AUTH_FAILURE_WINDOW_MS }
  })
  ctx.connection.close(CloseCodes.POLICY_VIOLATION, 'Too many failed auth attempts')
}

/** How `auth` messages are checked (src/upgrade decides from the `auth` options). */
export interface MessageAuth {
  /** Verifies a token; null when this server only authenticates on upgrade (auth.authenticate). */
  readonly verifyToken: ((token: string, connection: Connection) => Promise<Verified>) | null
  /** Redeems a one-time ticket (null when unknown, used or expired). */
  readonly redeemTicket: (ticket: string) => Promise<RealtimeUser | null>
  readonly expiry: ExpiryWatch
  /** Called once a socket has a user (clears the in-band handshake deadline). */
  readonly authenticated?: (connection: Connection) => void
}

async function check (auth: MessageAuth, ctx: RequestContext, message: AuthMessage): Promise<Verified> {
  if ('ticket' in message) {
    const user = await auth.redeemTicket(message.ticket)
    return user === null ? { ok: false, reason: 'invalid', message: 'Invalid, used or expired ticket' } : { ok: true, user }
  }
  if (auth.verifyToken === null) {
    throw new ProtocolError(ErrorCodes.UNAUTHORIZED, 'This server authenticates on upgrade only (auth.authenticate): reconnect to change credentials, or use a ticket')
  }
  const result = await auth.verifyToken(message.token, ctx.connection)
  warnNoUserId(ctx.log, result, 'auth message')
  return result
}

/**
 * `{type:'auth', token | ticket}`: a fresh token for a live socket (same user), or the first
 * credential of an anonymous one (in-band authentication, the browser path).
 */
export function registerAuthMessage (dispatcher: Dispatcher, auth: MessageAuth): void {
  const failures = new AuthFailures()
  dispatcher.register('auth', AuthSchema, async (ctx, message) => {
    if (failures.exhausted(ctx.connection, Date.now())) {
      refuseThrottled(ctx)
      return
    }
    const result = await check(auth, ctx, message)
    if (!result.ok) {
      failures.record(ctx.connection, Date.now())
      throw new ProtocolError(ErrorCodes.UNAUTHORIZED, result.message)
    }
    const user = result.user
    const current = ctx.connection.user
    if (current !== null && current.id !== user.id) {
      failures.record(ctx.connection, Date.now())
      throw new ProtocolError(ErrorCodes.UNAUTHORIZED, 'The token belongs to a different user; reconnect to switch users')
    }
    if (ctx.connection.closed) return // gone while the token was verified: arm no timer for it
    ctx.connection.user = user
    auth.authenticated?.(ctx.connection)
    auth.expiry.schedule(ctx.connection)
    await recheckSubscriptions(ctx)
    // Channels too: a dropped role must not keep a private channel (same check as join).
    await ctx.hub.channels?.reauthorize(ctx.connection)
    const expiresAt = expiryOf(user)
    ctx.reply({ type: 'authenticated', user, expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString() })
  })
}

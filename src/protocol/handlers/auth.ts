import { effectiveSubscriptionFilter } from '../../access/subscription-filter.js'
import { CloseCodes, ErrorCodes, ProtocolError } from '../../errors.js'
import type { Subscription } from '../../connection/connection.js'
import { warnNoUserId } from '../../upgrade/authenticate.js'
import { AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_MS } from '../../upgrade/message-auth.js'
import type { Verified } from '../../upgrade/types.js'
import { expiryOf } from '../../upgrade/user.js'
import type { AuthMessage } from '../../wire/client-schemas.js'
import { authenticatedFrame, errorFrame, subscriptionRevokedFrame } from '../../wire/frames.js'
import type { RequestContext } from '../context.js'

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
      // A copy for the guards: the subscription's own is shared with others and frozen.
      if (resource !== undefined) filter = await effectiveSubscriptionFilter(resource, connection.user, structuredClone(subscription.clientFilter), ctx.log)
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error
    }
    if (connection.closed) return
    if (filter === null) {
      hub.removeSubscription(subscription)
      connection.sendFrame(subscriptionRevokedFrame(subscription.id, subscription.resource))
      continue
    }
    // Re-index: the index buckets a subscription by its filter's first condition.
    hub.removeSubscription(subscription)
    subscription.filter = filter
    hub.addSubscription(subscription)
  }
}

/**
 * The refused attempt is answered before the close so the client can tell why it was closed.
 * New sockets are then held by the upgrade route's connection rate limit.
 */
function refuseThrottled (ctx: RequestContext): void {
  ctx.log.warn({ limit: AUTH_FAILURE_LIMIT, windowMs: AUTH_FAILURE_WINDOW_MS }, 'realtime: too many failed auth messages; closing with 1008')
  ctx.hub.counters.errors++
  ctx.reply(errorFrame(new ProtocolError(
    ErrorCodes.RATE_LIMIT_EXCEEDED,
    'Too many failed auth attempts on this connection; it is closed',
    { limit: AUTH_FAILURE_LIMIT, windowMs: AUTH_FAILURE_WINDOW_MS }
  )))
  ctx.connection.close(CloseCodes.POLICY_VIOLATION, 'Too many failed auth attempts')
}

async function check (ctx: RequestContext, message: AuthMessage): Promise<Verified> {
  const auth = ctx.services.auth
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
export async function handleAuth (ctx: RequestContext, message: AuthMessage): Promise<void> {
  const { failures, gate, expiry } = ctx.services.auth
  if (failures.exhausted(ctx.connection, Date.now())) {
    refuseThrottled(ctx)
    return
  }
  const result = await check(ctx, message)
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
  gate?.authenticated(ctx.connection)
  expiry.schedule(ctx.connection)
  await recheckSubscriptions(ctx)
  // Channels too: a dropped role must not keep a private channel (same check as join).
  await ctx.services.channels.reauthorize(ctx.connection)
  ctx.reply(authenticatedFrame(user, expiryOf(user)))
}

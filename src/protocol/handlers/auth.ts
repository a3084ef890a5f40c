import { Type, type Static } from '@sinclair/typebox'
import { effectiveSubscriptionFilter } from '../../access/subscription-filter.js'
import { ErrorCodes, ProtocolError } from '../../errors.js'
import type { Subscription } from '../../hub/subscription-index.js'
import type { AuthDriver } from '../../upgrade/types.js'
import { verifyToken } from '../../upgrade/authenticate.js'
import type { ExpiryWatch } from '../../upgrade/session.js'
import { expiryOf } from '../../upgrade/user.js'
import type { Dispatcher } from '../dispatcher.js'
import type { RequestContext } from '../context.js'

export const AuthSchema = Type.Object({
  type: Type.Literal('auth'),
  requestId: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Integer()])),
  token: Type.String({ minLength: 1, maxLength: 8192 })
}, { additionalProperties: false })
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

/** `{type:'auth', token}`: a fresh token for a live socket (same user, or anonymous -> user). */
export function registerAuthMessage (dispatcher: Dispatcher, drivers: readonly AuthDriver[], expiry: ExpiryWatch): void {
  dispatcher.register('auth', AuthSchema, async (ctx, message) => {
    const user = await verifyToken(drivers, message.token)
    if (user === null) throw new ProtocolError(ErrorCodes.UNAUTHORIZED, 'Invalid or expired token')
    const current = ctx.connection.user
    if (current !== null && current.id !== user.id) {
      throw new ProtocolError(ErrorCodes.UNAUTHORIZED, 'The token belongs to a different user; reconnect to switch users')
    }
    if (ctx.connection.closed) return // gone while the token was verified: arm no timer for it
    ctx.connection.user = user
    expiry.schedule(ctx.connection)
    await recheckSubscriptions(ctx)
    const expiresAt = expiryOf(user)
    ctx.reply({ type: 'authenticated', user, expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString() })
  })
}

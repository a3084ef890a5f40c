import { randomUUID } from 'node:crypto'
import { combineFilters, normalizeFilter } from '../../access/filter.js'
import { checkResourceRoles, listForcedFilter, mergeForced, requireResource, runGuard } from '../../access/access.js'
import { ErrorCodes, ProtocolError } from '../../errors.js'
import { encodeEvent, matchForSubscription } from '../../hub/fanout.js'
import type { Subscription } from '../../hub/subscription-index.js'
import type { ChangeType, Filter } from '../../types.js'
import type { RequestContext } from '../context.js'
import type { SubscribeMessage, UnsubscribeMessage } from '../schemas.js'

function sameFilter (a: Filter, b: Filter): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && b[k] === a[k])
}

function sameEvents (a: ReadonlySet<ChangeType>, b: ReadonlySet<ChangeType>): boolean {
  return a.size === b.size && [...a].every((e) => b.has(e))
}

export function parseFilter (input: unknown): Filter {
  const normalized = normalizeFilter(input)
  if ('error' in normalized) throw new ProtocolError(ErrorCodes.INVALID_REQUEST, normalized.error, { field: '/filter' })
  return normalized.filter
}

export async function handleSubscribe (ctx: RequestContext, message: SubscribeMessage): Promise<void> {
  const resource = requireResource(ctx.options, message.resource)
  const user = ctx.connection.user
  checkResourceRoles(resource, user)
  const clientFilter = parseFilter(message.filter)
  // A subscription never shows what `list` would not: both guards' forced filters apply.
  const subscribeResult = await runGuard(resource, 'subscribe', ctx.log, user, clientFilter)
  const listForced = await listForcedFilter(resource, user, clientFilter, ctx.log)
  const forced = mergeForced([subscribeResult === true ? null : subscribeResult as Filter, listForced])
  const compiled = combineFilters(clientFilter, forced.filter)
  const filter = forced.impossible ? { ...compiled, impossible: true } : compiled
  const events = new Set<ChangeType>((message.events ?? [...resource.events]).filter((e) => resource.events.has(e)))

  if (message.since !== undefined && message.epoch !== undefined && message.epoch !== ctx.hub.epoch) {
    throw new ProtocolError(ErrorCodes.RESYNC_REQUIRED, 'History epoch changed; list again', { epoch: ctx.hub.epoch, seq: ctx.hub.lastSeq(resource.name) })
  }
  const missed = message.since === undefined ? [] : ctx.hub.historySince(resource.name, message.since)
  if (missed === null) {
    throw new ProtocolError(ErrorCodes.RESYNC_REQUIRED, 'Events since that seq are no longer in history; list again', {
      epoch: ctx.hub.epoch, seq: ctx.hub.lastSeq(resource.name)
    })
  }

  const connection = ctx.connection
  let subscription = [...connection.subscriptions.values()].find((s) =>
    s.resource === resource.name && sameFilter(s.filter.filter, filter.filter) && s.filter.impossible === filter.impossible && sameEvents(s.events, events))
  if (subscription === undefined) {
    if (connection.subscriptions.size >= ctx.options.maxSubscriptionsPerConnection) {
      throw new ProtocolError(ErrorCodes.LIMIT_EXCEEDED, `A connection may hold at most ${ctx.options.maxSubscriptionsPerConnection} subscriptions`)
    }
    subscription = { id: randomUUID(), connection, resource: resource.name, clientFilter, filter, events }
    // From here to the end everything is synchronous: no change can slip between the replay
    // and the live stream, and none can arrive twice.
    ctx.hub.addSubscription(subscription)
  }
  ctx.reply({
    type: 'subscribed',
    resource: resource.name,
    filter: filter.filter,
    events: [...events],
    subscriptionId: subscription.id,
    seq: ctx.hub.lastSeq(resource.name),
    epoch: ctx.hub.epoch
  })
  for (const event of missed) {
    const match = matchForSubscription(event, subscription)
    if (match !== null) connection.send(encodeEvent(event, resource.project, match === 'left'))
  }
}

export function handleUnsubscribe (ctx: RequestContext, message: UnsubscribeMessage): void {
  const connection = ctx.connection
  let removed: Subscription[]
  if (message.subscriptionId !== undefined) {
    const subscription = connection.subscriptions.get(message.subscriptionId)
    removed = subscription === undefined ? [] : [subscription]
  } else if (message.resource !== undefined) {
    const filter = message.filter === undefined ? null : parseFilter(message.filter)
    removed = [...connection.subscriptions.values()].filter((s) =>
      s.resource === message.resource && (filter === null || sameFilter(s.clientFilter, filter)))
  } else {
    throw new ProtocolError(ErrorCodes.INVALID_REQUEST, 'unsubscribe needs a subscriptionId or a resource', { field: '/resource' })
  }
  for (const subscription of removed) ctx.hub.removeSubscription(subscription)
  const reply: Record<string, unknown> = { type: 'unsubscribed', subscriptionIds: removed.map((s) => s.id) }
  if (message.resource !== undefined) reply.resource = message.resource
  else if (removed[0] !== undefined) reply.resource = removed[0].resource
  if (message.filter !== undefined) reply.filter = message.filter
  if (message.subscriptionId !== undefined) reply.subscriptionId = message.subscriptionId
  ctx.reply(reply)
}

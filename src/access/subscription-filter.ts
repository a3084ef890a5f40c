import type { FastifyBaseLogger } from 'fastify'
import type { ResolvedResource } from './resource.js'
import type { Filter, RealtimeUser } from '../types.js'
import { checkResourceRoles, listForcedFilter, mergeForced, runGuard } from './access.js'
import { combineFilters, type CompiledFilter } from './filter.js'

/**
 * Everything the guards force on `user` for this resource: the `subscribe` guard's forced
 * filter AND the `list` guard's (both asked with `filter`). `filter` is null when neither
 * restricts; `impossible` when they contradict each other (nothing can match). Throws FORBIDDEN
 * (roles or a guard saying no). Subscriptions and publishes both use it, so a sender is held to
 * exactly what it could receive.
 */
export async function forcedSubscriptionFilter (
  resource: ResolvedResource, user: RealtimeUser | null, filter: Filter, log: FastifyBaseLogger
): Promise<{ filter: Filter | null, impossible: boolean }> {
  checkResourceRoles(resource, user)
  const subscribeResult = await runGuard(resource, 'subscribe', log, user, filter)
  const listForced = await listForcedFilter(resource, user, filter, log)
  return mergeForced([subscribeResult === true ? null : subscribeResult as Filter, listForced])
}

/**
 * The filter a subscription runs with: client filter AND the `subscribe` guard's forced filter
 * AND the `list` guard's forced filter, so a subscription never shows what `list` would not.
 * Throws FORBIDDEN (roles or a guard saying no). Used on subscribe and again on token refresh.
 */
export async function effectiveSubscriptionFilter (
  resource: ResolvedResource, user: RealtimeUser | null, clientFilter: Filter, log: FastifyBaseLogger
): Promise<CompiledFilter> {
  const forced = await forcedSubscriptionFilter(resource, user, clientFilter, log)
  const compiled = combineFilters(clientFilter, forced.filter)
  return forced.impossible ? { ...compiled, impossible: true } : compiled
}

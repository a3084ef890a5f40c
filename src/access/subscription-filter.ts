import type { FastifyBaseLogger } from 'fastify'
import type { ResolvedResource } from '../options.js'
import type { Filter, RealtimeUser } from '../types.js'
import { checkResourceRoles, listForcedFilter, mergeForced, runGuard } from './access.js'
import { combineFilters, type CompiledFilter } from './filter.js'

/**
 * The filter a subscription runs with: client filter AND the `subscribe` guard's forced filter
 * AND the `list` guard's forced filter, so a subscription never shows what `list` would not.
 * Throws FORBIDDEN (roles or a guard saying no). Used on subscribe and again on token refresh.
 */
export async function effectiveSubscriptionFilter (
  resource: ResolvedResource, user: RealtimeUser | null, clientFilter: Filter, log: FastifyBaseLogger
): Promise<CompiledFilter> {
  checkResourceRoles(resource, user)
  const subscribeResult = await runGuard(resource, 'subscribe', log, user, clientFilter)
  const listForced = await listForcedFilter(resource, user, clientFilter, log)
  const forced = mergeForced([subscribeResult === true ? null : subscribeResult as Filter, listForced])
  const compiled = combineFilters(clientFilter, forced.filter)
  return forced.impossible ? { ...compiled, impossible: true } : compiled
}

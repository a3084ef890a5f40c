import type { FastifyBaseLogger } from 'fastify'
import { ErrorCodes, ProtocolError } from '../errors.js'
import type { ResolvedResource } from './resource.js'
import type { Filter, RealtimeUser } from '../types.js'
import { isPlainObject } from '../util/paths.js'
import { listForcedFilter } from './access.js'
import { compileFilter, matchesFilter, type CompiledFilter } from './filter.js'
import { forcedSubscriptionFilter } from './subscription-filter.js'

/**
 * One record's top-level scalar fields as a filter: what the `list` guard is asked when the
 * question is about a single record (get, insert, update, delete, publish). A guard such as
 * "members may list a room" (`ctx.filter.roomId`) then answers for the record's own room
 * instead of for "everything".
 */
export function recordAsFilter (record: unknown): Filter {
  const filter: Filter = {}
  if (!isPlainObject(record)) return filter
  for (const [key, value] of Object.entries(record)) {
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') filter[key] = value
  }
  return filter
}

/**
 * The `list` guard's forced filter for one record (null: no restriction). Throws FORBIDDEN when
 * the guard refuses the record outright.
 */
export async function forcedFilterFor (
  resource: ResolvedResource, user: RealtimeUser | null, record: unknown, log: FastifyBaseLogger
): Promise<Filter | null> {
  return await listForcedFilter(resource, user, recordAsFilter(record), log)
}

/** Row-level security is configured: published messages are then treated like records. */
export function hasRowGuards (resource: ResolvedResource): boolean {
  return resource.guard.list !== undefined || resource.guard.subscribe !== undefined
}

/**
 * A publish to a guarded resource must be something the sender could itself list AND receive
 * on a subscription: it must match every forced filter the sender is subject to (`list` and
 * `subscribe`, both asked with the message's fields as the filter). Otherwise a user of tenant
 * A could push a message shaped like tenant B's data into B's subscriptions, e.g. on a resource
 * guarded only by `subscribe`.
 */
export async function requirePublishVisible (
  resource: ResolvedResource, user: RealtimeUser | null, message: unknown, log: FastifyBaseLogger
): Promise<void> {
  if (!hasRowGuards(resource)) return
  const forced = await forcedSubscriptionFilter(resource, user, recordAsFilter(message), log)
  if (forced.impossible || (forced.filter !== null && !matchesFilter(message, compileFilter(forced.filter)))) {
    throw new ProtocolError(ErrorCodes.FORBIDDEN, 'Message would be outside what you may see')
  }
}

/**
 * Whether a published message reaches a subscription with this (effective) filter. On guarded resources the message must
 * match the subscription's effective filter, like a record would (a room's typing notice stays
 * in the room); on unguarded resources every subscriber of the resource gets it.
 */
export function publishReaches (resource: ResolvedResource | undefined, filter: CompiledFilter, message: unknown): boolean {
  if (filter.impossible || resource === undefined) return false
  if (!hasRowGuards(resource)) return true
  return matchesFilter(message, filter)
}

import type { FastifyBaseLogger } from 'fastify'
import { ErrorCodes, ProtocolError } from '../errors.js'
import type { Filter, RealtimeUser } from '../types.js'
import { isPlainObject } from '../util/paths.js'
import { andFilters, compileFilter, normalizeFilter } from './filter.js'
import { FILTER_LIMITS } from './filter-operators.js'
import type { ResolvedResource, ResourceGuards, ResourceTable } from './resource.js'
import { protectedPathReached } from './protected-paths.js'

/** The configured resource, or RESOURCE_NOT_FOUND (unknown and disabled look the same). */
export function requireResource (options: ResourceTable, name: string): ResolvedResource {
  const resource = options.resources.get(name)
  if (resource === undefined) throw new ProtocolError(ErrorCodes.RESOURCE_NOT_FOUND, `Resource "${name}" is not available`)
  return resource
}

export function userRoles (user: RealtimeUser | null): string[] {
  if (user === null) return []
  const roles = Array.isArray(user.roles) ? user.roles.filter((r): r is string => typeof r === 'string') : []
  if (typeof user.role === 'string') roles.push(user.role)
  return roles
}

export function hasAnyRole (user: RealtimeUser | null, roles: readonly string[]): boolean {
  const own = userRoles(user)
  return roles.some((role) => own.includes(role))
}

/** Resource `auth: [roles]` gates every operation on the resource. */
export function checkResourceRoles (resource: ResolvedResource, user: RealtimeUser | null): void {
  if (resource.roles === null) return
  if (!hasAnyRole(user, resource.roles)) {
    throw new ProtocolError(ErrorCodes.FORBIDDEN, `Access to resource "${resource.name}" is forbidden`)
  }
}

/**
 * Runs one guard. A guard that throws denies (FORBIDDEN) and is logged, never crashes the
 * server or leaks its message. Missing guards allow.
 */
export async function runGuard<K extends keyof ResourceGuards> (
  resource: ResolvedResource,
  name: K,
  log: FastifyBaseLogger,
  ...args: Parameters<NonNullable<ResourceGuards[K]>>
): Promise<true | Filter> {
  const guard = resource.guard[name] as ((...a: unknown[]) => unknown) | undefined
  if (guard === undefined) return true
  let result: unknown
  try {
    result = await guard(...args)
  } catch (error) {
    log.warn({ err: error, resource: resource.name, guard: name }, 'realtime: guard threw; request denied')
    throw new ProtocolError(ErrorCodes.FORBIDDEN, 'Access denied')
  }
  if (result === true) return true
  if (isPlainObject(result)) {
    // A guard's lists may be longer than a client's (a user's teams): the server chose them.
    const normalized = normalizeFilter(result, FILTER_LIMITS.fields, FILTER_LIMITS.guardInValues)
    if ('error' in normalized) {
      log.warn({ resource: resource.name, guard: name, problem: normalized.error }, 'realtime: guard returned an invalid filter; request denied')
      throw new ProtocolError(ErrorCodes.FORBIDDEN, 'Access denied')
    }
    const encrypted = encryptedPathIn(normalized.filter, resource.encryptedFields)
    if (encrypted !== null) {
      // Fail closed: s3db hands this attribute out as ciphertext on some paths (an update's
      // event), where a filter on it would match what it should not.
      log.error({ resource: resource.name, guard: name, path: encrypted }, 'realtime: a guard filter reaches an s3db `secret` attribute, which cannot be matched reliably; request denied')
      throw new ProtocolError(ErrorCodes.FORBIDDEN, 'Access denied')
    }
    return normalized.filter
  }
  throw new ProtocolError(ErrorCodes.FORBIDDEN, 'Access denied')
}

/** A guard that may only allow or deny (get/create/update/delete). */
export async function requireAllowed<K extends 'get' | 'create' | 'update' | 'delete'> (
  resource: ResolvedResource,
  name: K,
  log: FastifyBaseLogger,
  ...args: Parameters<NonNullable<ResourceGuards[K]>>
): Promise<void> {
  const result = await runGuard(resource, name, log, ...args)
  if (result !== true) throw new ProtocolError(ErrorCodes.FORBIDDEN, 'Access denied')
}

/** ANDs forced filters from several guards; `impossible` when together they match nothing. */
export function mergeForced (filters: Array<Filter | null>): { filter: Filter | null, impossible: boolean } {
  let merged: Filter | null = null
  for (const filter of filters) {
    if (filter === null) continue
    merged = merged === null ? filter : andFilters(merged, filter)
  }
  return { filter: merged, impossible: merged !== null && compileFilter(merged).impossible }
}

/** The `list` guard's forced filter (null when it allows everything). */
export async function listForcedFilter (
  resource: ResolvedResource, user: RealtimeUser | null, filter: Filter, log: FastifyBaseLogger
): Promise<Filter | null> {
  const result = await runGuard(resource, 'list', log, user, { filter })
  return result === true ? null : result as Filter
}

/** A filter path that reaches an encrypted attribute, or holds one inside it (its parent object); or null. */
function encryptedPathIn (filter: Filter, encrypted: readonly string[]): string | null {
  if (encrypted.length === 0) return null
  for (const path of Object.keys(filter)) {
    if (protectedPathReached(path, encrypted) !== null || encrypted.some((e) => e.startsWith(`${path}.`))) return path
  }
  return null
}

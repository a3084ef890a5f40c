import { isPlainObject } from '../util/paths.js'
import { resolveAsyncApi } from './asyncapi.js'
import { resolveAuth, type ResolvedAuth } from './auth.js'
import { resolveChannels, type ResolvedChannelsOptions } from './channels.js'
import { CLUSTER_KEYS, resolveCluster, type ResolvedCluster } from './cluster.js'
import { CORE_KEYS, resolveCore, type ResolvedCoreOptions } from './core.js'
import { resolveCors, type ResolvedCors } from './cors.js'
import { resolveInspector, type ResolvedInspector } from './inspector.js'
import { OPERATIONS_KEYS, resolveOperations, type ResolvedOperations } from './operations.js'
import { resolveConnectionRateLimit, resolveMessageRateLimit, type ResolvedConnectionRateLimit, type ResolvedMessageRateLimit } from './rate-limits.js'
import type { RealtimeOptions } from './realtime-options.js'
import { resolveTickets, type ResolvedTickets } from './tickets.js'
import { fail } from './validate.js'

export { DEFAULTS } from './defaults.js'
export type { RealtimeOptions } from './realtime-options.js'

/** Every option group, validated, with its defaults applied: what plugin.ts hands down. */
export interface ResolvedOptions {
  readonly core: ResolvedCoreOptions
  readonly operations: ResolvedOperations
  /** URL of the AsyncAPI document route; null when off. */
  readonly asyncapi: string | null
  /** The inspector page and `inspect` message; null when off. */
  readonly inspector: ResolvedInspector | null
  readonly auth: ResolvedAuth
  readonly tickets: ResolvedTickets
  readonly cors: ResolvedCors
  readonly connectionRateLimit: ResolvedConnectionRateLimit
  readonly rateLimit: ResolvedMessageRateLimit
  readonly channels: ResolvedChannelsOptions
  /** Null when the instance runs alone (no `redis`, no `bus`). */
  readonly cluster: ResolvedCluster | null
}

/** The top-level options each group reads; an option no group reads is refused. */
const GROUP_KEYS = {
  core: CORE_KEYS,
  operations: OPERATIONS_KEYS,
  asyncapi: ['asyncapi'],
  inspector: ['inspector'],
  auth: ['auth'],
  tickets: ['tickets'],
  cors: ['cors'],
  connectionRateLimit: ['connectionRateLimit'],
  rateLimit: ['rateLimit'],
  channels: ['channels'],
  cluster: CLUSTER_KEYS
} as const satisfies { readonly [G in keyof ResolvedOptions]: ReadonlyArray<keyof RealtimeOptions> }

type OwnedKey = (typeof GROUP_KEYS)[keyof typeof GROUP_KEYS][number]
// Compile-time: an option added to RealtimeOptions must be given to a group above.
const everyOptionHasAGroup: [Exclude<keyof RealtimeOptions, OwnedKey>] extends [never] ? true : never = true
void everyOptionHasAGroup

/** Every top-level option name the plugin knows. */
export const KNOWN_OPTIONS: ReadonlySet<string> = new Set(Object.values(GROUP_KEYS).flat())

/**
 * Validates every option, once, at register: a bad value throws InvalidOptionError (or
 * UnknownResourceError) naming it, before anything is started. Pure: it builds nothing (no bus,
 * no auth driver, no route); the module that owns a group builds from its resolved form.
 */
export function resolveOptions (raw: unknown): ResolvedOptions {
  if (!isPlainObject(raw)) fail('options must be an object')
  for (const key of Object.keys(raw)) {
    if (!KNOWN_OPTIONS.has(key)) fail(`unknown option "${key}"`)
  }
  // In the order the groups were always checked, so a config with two mistakes reports the same one.
  const core = resolveCore(raw)
  const operations = resolveOperations(raw)
  const asyncapi = resolveAsyncApi(raw.asyncapi, core.path)
  const inspector = resolveInspector(raw.inspector, core.path)
  const auth = resolveAuth(raw.auth)
  const tickets = resolveTickets(raw.tickets, core.path)
  const cors = resolveCors(raw.cors)
  const connectionRateLimit = resolveConnectionRateLimit(raw.connectionRateLimit)
  const rateLimit = resolveMessageRateLimit(raw.rateLimit)
  const channels = resolveChannels(raw.channels)
  const cluster = resolveCluster(raw)
  return Object.freeze({ core, operations, asyncapi, inspector, auth, tickets, cors, connectionRateLimit, rateLimit, channels, cluster })
}
